package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	smithydocument "github.com/aws/smithy-go/document"
)

// jsonDocument turns a JSON object into a document the SDK sends as that
// same JSON: tool arguments, tool schemas and extra model fields.
//
// The SDK encodes a document when it serializes the request and drops any
// encoding error on the floor, sending broken JSON instead, so everything
// it could refuse is checked here first. A value decoded from JSON only
// holds maps with string keys, slices, strings, bools, nil and numbers,
// and of these the SDK's encoder refuses only an empty object key. Numbers
// stay exactly as written (as document.Number, which the encoder copies
// verbatim): an ID of 2^60 in a tool's arguments must not come back
// rounded through float64.
func jsonDocument(raw []byte) (document.Interface, error) {
	v, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	return document.NewLazyDocument(v), nil
}

// errNotObject is returned for JSON that is valid but not an object.
var errNotObject = errors.New("not a JSON object")

// decodeObject decodes raw, which must hold exactly one JSON object, into
// values the SDK's document encoder accepts.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the top-level value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	if err := toDocument(m); err != nil {
		return nil, err
	}
	return m, nil
}

// toDocument rewrites json.Number to document.Number in place, and refuses
// what the SDK's document encoder cannot encode.
func toDocument(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "" {
				return errors.New("an object has an empty key, which Bedrock cannot send")
			}
			if n, ok := e.(json.Number); ok {
				t[k] = smithydocument.Number(n)
				continue
			}
			if err := toDocument(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if n, ok := e.(json.Number); ok {
				t[i] = smithydocument.Number(n)
				continue
			}
			if err := toDocument(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// documentJSON renders a document from a response (tool arguments) as
// JSON text; a nil document is the empty object.
func documentJSON(d document.Interface) (string, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		return "", err
	}
	if len(b) == 0 || string(b) == "null" {
		return "{}", nil
	}
	return string(b), nil
}
