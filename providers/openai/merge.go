package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

var errBodyNotObject = errors.New("openai: request body is not a JSON object")

// mergeExtra returns the JSON object body with extra's fields set at top
// level. A key the body already has is replaced in place (extra comes from
// override_params, which override); the other keys follow the body's
// fields, sorted, so the same inputs always give the same bytes. The
// body's own values are copied verbatim, never re-encoded; keys are
// written again as JSON strings, which is the same JSON.
func mergeExtra(body []byte, extra map[string]any) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("openai: reading request body: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errBodyNotObject
	}

	values := make(map[string][]byte, len(extra))
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		v, err := json.Marshal(extra[k])
		if err != nil {
			return nil, fmt.Errorf("openai: extra body field %q: %w", k, err)
		}
		values[k] = v
	}

	var out bytes.Buffer
	out.Grow(len(body) + 32*len(extra))
	out.WriteByte('{')
	n := 0
	field := func(k string, v []byte) {
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k) // a string always encodes
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	written := make(map[string]bool, len(extra))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("openai: reading request body: %w", err)
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errBodyNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("openai: reading request body: %w", err)
		}
		if v, ok := values[k]; ok {
			if !written[k] {
				field(k, v)
				written[k] = true
			}
			continue
		}
		field(k, raw)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errBodyNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBodyNotObject
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !written[k] {
			field(k, values[k])
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
