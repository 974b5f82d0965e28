package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
)

// maxDocuments bounds the YAML documents of a manifest: the YAML decoder
// slows down more than linearly with their number, and no real manifest
// comes near it.
const maxDocuments = 10_000

// isJSON reports whether data is a JSON manifest: its first byte other
// than white space (and a UTF-8 byte order mark) opens an object or array.
func isJSON(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// roots returns the top-level node of each document in data, nil documents
// (empty, or only "---") left out. Syntax errors carry the line they are on.
func roots(data []byte) (docs []*yaml.Node, err FieldErrors) {
	// The YAML parser is third-party code; whatever it does with hostile
	// input, a manifest is never a reason to crash a service.
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, FieldErrors{{Msg: fmt.Sprintf("malformed manifest (%v)", r)}}
		}
	}()
	if isJSON(data) {
		n, errs := parseJSON(data)
		if errs != nil {
			return nil, errs
		}
		return []*yaml.Node{n}, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		if n == maxDocuments {
			return nil, FieldErrors{{Msg: fmt.Sprintf("more than %d YAML documents", maxDocuments)}}
		}
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			line, msg := yamlread.SyntaxError(err)
			return nil, FieldErrors{{Line: line, Msg: "invalid YAML: " + msg}}
		}
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		docs = append(docs, n)
	}
}

// parseJSON converts a JSON document to the node tree the YAML parser
// would build, with the line of every key and value, so that one decoder
// serves both formats. It is strict RFC 8259 JSON (encoding/json's
// tokenizer), which the YAML parser is not quite: it rejects, for one,
// escaped surrogate pairs.
func parseJSON(data []byte) (*yaml.Node, FieldErrors) {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	p.dec.UseNumber()
	for i, b := range data {
		if b == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	n, errs := p.value(tok, 0)
	if errs != nil {
		return nil, errs
	}
	if _, err := p.dec.Token(); err != io.EOF {
		if err == nil {
			return nil, FieldErrors{{Line: p.line(), Msg: "invalid JSON: unexpected data after the top-level value"}}
		}
		return nil, p.syntax(err)
	}
	return n, nil
}

type jsonParser struct {
	dec      *json.Decoder
	data     []byte
	newlines []int // offsets of '\n'
}

// lineAt returns the 1-based line of byte offset off.
func (p *jsonParser) lineAt(off int64) int {
	return sort.SearchInts(p.newlines, int(off)) + 1
}

// line returns the line of the token just read.
func (p *jsonParser) line() int {
	return p.lineAt(max(p.dec.InputOffset()-1, 0))
}

func (p *jsonParser) syntax(err error) FieldErrors {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return FieldErrors{{Line: p.lineAt(max(se.Offset-1, 0)), Msg: "invalid JSON: " + se.Error()}}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return FieldErrors{{Line: p.lineAt(int64(len(p.data))), Msg: "invalid JSON: unexpected end of input"}}
	}
	return FieldErrors{{Line: p.line(), Msg: "invalid JSON: " + err.Error()}}
}

func (p *jsonParser) value(tok json.Token, depth int) (*yaml.Node, FieldErrors) {
	line := p.line()
	switch t := tok.(type) {
	case json.Delim:
		if depth >= yamlread.MaxDepth {
			return nil, FieldErrors{{Line: line, Msg: fmt.Sprintf("invalid JSON: nested more than %d levels deep", yamlread.MaxDepth)}}
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: line}
		if t == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for p.dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := p.dec.Token()
				if err != nil {
					return nil, p.syntax(err)
				}
				key, _ := k.(string) // the tokenizer yields only string keys
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Style: yaml.DoubleQuotedStyle, Line: p.line()})
			}
			v, err := p.dec.Token()
			if err != nil {
				return nil, p.syntax(err)
			}
			vn, errs := p.value(v, depth+1)
			if errs != nil {
				return nil, errs
			}
			n.Content = append(n.Content, vn)
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, p.syntax(err)
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Style: yaml.DoubleQuotedStyle, Line: line}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t), Line: line}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
	return nil, FieldErrors{{Line: line, Msg: fmt.Sprintf("invalid JSON: unexpected token %v", tok)}}
}
