package gemini

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"

	"google.golang.org/genai"
)

// Tool call ids.
//
// The Gemini API gives its function calls no id, and Gemini 3 attaches a
// thought signature to a call that must come back with it on the next
// turn, or that turn is refused. go-openai's ToolCall has no field for a
// signature; its id is the one value every OpenAI client echoes back
// unchanged, in the assistant message and in each tool message's
// tool_call_id. So the id carries it:
//
//	call_<16 hex digits>[_<base64url payload>]
//
// The hex digits hash the response id, the call's candidate and position,
// its name and upstream id (and its arguments when the response has no
// id): the same response always gives the same ids, so a replayed
// conversation maps back, and the calls of one response get distinct
// ones. The payload is present only when there is something to carry: a
// version byte (1), the upstream's own call id (uvarint length, then the
// bytes; usually empty) and the thought signature's bytes. The alphabet is
// [A-Za-z0-9_-], which every provider's tool-call ids accept.
const (
	toolIDPrefix  = "call_"
	toolIDHashLen = 16
	toolIDVersion = 1
)

// toolCallRef is what an id carries back to Gemini.
type toolCallRef struct {
	upstream  string // the call's own id from Gemini, if it had one
	signature []byte // the call's thought signature, if it had one
}

// encodeToolCallID returns the id of the call at position (counting the
// candidate's function calls from 0) of candidate in the response
// responseID.
func encodeToolCallID(responseID string, candidate, position int, fc *genai.FunctionCall, sig []byte) string {
	h := newFNV()
	h.add(responseID)
	h.add(strconv.Itoa(candidate))
	h.add(strconv.Itoa(position))
	h.add(fc.Name)
	h.add(fc.ID)
	if responseID == "" && len(fc.Args) > 0 {
		// No response id to tell two responses apart: their arguments
		// usually do.
		if raw, err := json.Marshal(fc.Args); err == nil {
			h.add(string(raw))
		}
	}
	var b strings.Builder
	payload := 0
	if fc.ID != "" || len(sig) > 0 {
		payload = 1 + binary.MaxVarintLen64 + len(fc.ID) + len(sig)
	}
	b.Grow(len(toolIDPrefix) + toolIDHashLen + 1 + base64.RawURLEncoding.EncodedLen(payload))
	b.WriteString(toolIDPrefix)
	var hexBuf [toolIDHashLen]byte
	b.Write(hexDigits(&hexBuf, h.sum))
	if payload == 0 {
		return b.String()
	}
	raw := make([]byte, 0, payload)
	raw = append(raw, toolIDVersion)
	raw = binary.AppendUvarint(raw, uint64(len(fc.ID)))
	raw = append(raw, fc.ID...)
	raw = append(raw, sig...)
	b.WriteByte('_')
	enc := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(enc, raw)
	b.Write(enc)
	return b.String()
}

// decodeToolCallID reads what an id made by encodeToolCallID carries. Any
// other id (one from another provider, or made up by the caller) carries
// nothing: it is not sent to Gemini, which never issued it.
func decodeToolCallID(id string) toolCallRef {
	rest, ok := strings.CutPrefix(id, toolIDPrefix)
	if !ok || len(rest) < toolIDHashLen {
		return toolCallRef{}
	}
	for i := 0; i < toolIDHashLen; i++ {
		if c := rest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return toolCallRef{}
		}
	}
	rest = rest[toolIDHashLen:]
	if rest == "" || rest[0] != '_' {
		return toolCallRef{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest[1:])
	if err != nil || len(raw) < 2 || raw[0] != toolIDVersion {
		return toolCallRef{}
	}
	n, k := binary.Uvarint(raw[1:])
	if k <= 0 || n > uint64(len(raw)-1-k) {
		return toolCallRef{}
	}
	start := 1 + k
	ref := toolCallRef{upstream: string(raw[start : start+int(n)])}
	if sig := raw[start+int(n):]; len(sig) > 0 {
		ref.signature = sig
	}
	return ref
}

// fnv is a 64-bit FNV-1a hash, written out so that hashing an id
// allocates nothing.
type fnv struct{ sum uint64 }

func newFNV() fnv { return fnv{sum: 14695981039346656037} }

// add hashes s and a separator, so that ("ab", "c") and ("a", "bc")
// differ.
func (h *fnv) add(s string) {
	for i := 0; i < len(s); i++ {
		h.sum ^= uint64(s[i])
		h.sum *= 1099511628211
	}
	h.sum ^= 0xff
	h.sum *= 1099511628211
}

// hexDigits writes v as 16 lowercase hex digits into buf.
func hexDigits(buf *[toolIDHashLen]byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := toolIDHashLen - 1; i >= 0; i-- {
		buf[i] = digits[v&0xf]
		v >>= 4
	}
	return buf[:]
}
