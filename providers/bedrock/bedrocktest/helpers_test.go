package bedrocktest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

func v4PayloadHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// decodeAll decodes every frame in buf as "type name payload".
func decodeAll(t *testing.T, buf *bytes.Buffer) []string {
	t.Helper()
	dec := eventstream.NewDecoder()
	var out []string
	for buf.Len() > 0 {
		m, err := dec.Decode(buf, nil)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		typ := m.Headers.Get(":message-type").String()
		name := m.Headers.Get(":event-type")
		if typ == "exception" {
			name = m.Headers.Get(":exception-type")
		}
		out = append(out, typ+" "+name.String()+" "+string(m.Payload))
	}
	return out
}
