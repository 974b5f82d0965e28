// Package overrides is the one table of the override_params keys that
// llmroute sets on a field of the typed request, with the type each must
// have. Validating a configuration checks a target's override_params
// with Check; a Client compiles them for sending with Compile (both in
// package routing). Both read the same table, so validation rejects
// exactly what sending could not apply, and a new parameter is one row of
// the table.
package overrides

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/yamlread"
)

// PromptVersion is the override that names a managed prompt version. It
// has no typed field and goes out as a body field; a chat request that
// carries tools (agents, MCP) brings its own prompt, so it is held back
// from those.
const PromptVersion = "prompt_version_fqn"

// kind is the type a parameter's value must have.
type kind int

const (
	number kind = iota // a finite number that fits a float32
	whole              // a whole number that fits an int32
	text               // a string
	texts              // a string or a list of strings
)

// value is a parameter's value converted to its kind. Compile points ip
// at a copy of i, so that a *int field is set without an allocation per
// request; like ss, it is shared read-only by every request it is set on.
type value struct {
	f  float32
	i  int
	ip *int
	s  string
	ss []string
}

// op is a set of operations.
type op uint8

const (
	chat op = 1 << iota
	completion
	embedding
)

// param is one row of the table: a key, its kind, and the operations
// whose request has a field for it, the field whose JSON name is the key.
// On the other operations' requests the value goes out as a body field.
type param struct {
	key  string
	kind kind
	ops  op

	// Where each operation's request holds the field; found by its JSON
	// name when the package is initialised.
	chat, completion, embedding field
}

// table is every parameter with a type; adding one is adding a row. A key
// not in it is sent as it is, as a body field, and must only be JSON.
var table = []param{
	{key: "temperature", kind: number, ops: chat | completion},
	{key: "top_p", kind: number, ops: chat | completion},
	{key: "presence_penalty", kind: number, ops: chat | completion},
	{key: "frequency_penalty", kind: number, ops: chat | completion},
	{key: "max_tokens", kind: whole, ops: chat | completion},
	{key: "max_completion_tokens", kind: whole, ops: chat},
	{key: "n", kind: whole, ops: chat | completion},
	{key: "seed", kind: whole, ops: chat | completion},
	{key: "stop", kind: texts, ops: chat | completion},
	{key: "user", kind: text, ops: chat | completion | embedding},
	{key: "dimensions", kind: whole, ops: embedding},
	{key: "encoding_format", kind: text, ops: embedding},
	{key: PromptVersion, kind: text},
}

func init() {
	for i := range table {
		p := &table[i]
		p.chat = find[openai.ChatCompletionRequest](p, chat)
		p.completion = find[openai.CompletionRequest](p, completion)
		p.embedding = find[openai.EmbeddingRequest](p, embedding)
	}
}

// field is where a request holds a parameter: the offset of a field of
// the Go type the parameter's kind gives (for a whole number, an int or a
// *int).
type field struct {
	ok  bool
	off uintptr
	ptr bool // a *int
}

// find returns the field of request type R for p when o is among p's
// operations. A row naming a field R lacks, or one of another type, is
// a mistake in the table and stops the program at start-up (and every
// test).
func find[R any](p *param, o op) field {
	if p.ops&o == 0 {
		return field{}
	}
	t := reflect.TypeFor[R]()
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != p.key {
			continue
		}
		k := f.Type.Kind()
		switch {
		case p.kind == number && k == reflect.Float32,
			p.kind == whole && k == reflect.Int,
			p.kind == text && k == reflect.String,
			p.kind == texts && f.Type == reflect.TypeFor[[]string]():
			return field{ok: true, off: f.Offset}
		case p.kind == whole && f.Type == reflect.TypeFor[*int]():
			return field{ok: true, off: f.Offset, ptr: true}
		}
		panic(fmt.Sprintf("overrides: %s.%s is a %s, not what %q needs", t, f.Name, f.Type, p.key))
	}
	panic(fmt.Sprintf("overrides: %s has no field %q", t, p.key))
}

// write stores v in the field f of the request at base. The field's type
// was checked by find; writing through its offset, rather than through a
// setter function, keeps the request on the caller's stack.
func (p *param) write(base unsafe.Pointer, f field, v *value) {
	at := unsafe.Add(base, f.off)
	switch {
	case p.kind == number:
		*(*float32)(at) = v.f
	case p.kind == whole && f.ptr:
		*(**int)(at) = v.ip
	case p.kind == whole:
		*(*int)(at) = v.i
	case p.kind == text:
		*(*string)(at) = v.s
	default: // texts
		*(*[]string)(at) = v.ss
	}
}

// lookup returns the row of key, or nil.
func lookup(key string) *param {
	for i := range table {
		if table[i].key == key {
			return &table[i]
		}
	}
	return nil
}

// Keys returns the keys with a type, in the table's order.
func Keys() []string {
	out := make([]string, len(table))
	for i := range table {
		out[i] = table[i].key
	}
	return out
}

// Check returns why the value v of override key cannot be sent, or nil:
// an empty key, a value of the wrong type for a key of the table, or a
// value JSON cannot carry. The message does not repeat the key.
func Check(key string, v any) error {
	_, _, err := check(key, v)
	return err
}

// check is Check, and also returns key's row (nil for a key sent as it
// is) and v converted to its kind.
func check(key string, v any) (*param, value, error) {
	if key == "" {
		return nil, value{}, errors.New("empty key")
	}
	if p := lookup(key); p != nil {
		cv, err := p.convert(v)
		return p, cv, err
	}
	if _, err := json.Marshal(v); err != nil {
		return nil, value{}, fmt.Errorf("cannot be sent as JSON: %s", Describe(v))
	}
	return nil, value{}, nil
}

// convert takes v as p's kind.
func (p *param) convert(v any) (value, error) {
	switch p.kind {
	case number:
		f, ok := asFloat(v)
		if !ok {
			return value{}, fmt.Errorf("want a number, got %s", Describe(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return value{}, fmt.Errorf("%v is not a finite number", f)
		}
		return value{f: float32(f)}, nil
	case whole:
		i, ok := asWhole(v)
		if !ok {
			return value{}, fmt.Errorf("want a whole number, got %s", Describe(v))
		}
		return value{i: i}, nil
	case text:
		s, ok := v.(string)
		if !ok {
			return value{}, fmt.Errorf("want a string, got %s", Describe(v))
		}
		return value{s: s}, nil
	default: // texts
		ss, ok := asStrings(v)
		if !ok {
			return value{}, fmt.Errorf("want a string or a list of strings, got %s", Describe(v))
		}
		return value{ss: ss}, nil
	}
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

func asWhole(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x), true
		}
	case uint64:
		if x <= math.MaxInt32 {
			return int(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x), true
		}
	}
	return 0, false
}

func asStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []string:
		return slices.Clone(x), true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Describe names a value in a message, quoting at most yamlread.ClipLen
// characters of a string.
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + strconv.Quote(yamlread.Clip(x))
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case bool, int, int64, uint64, float64, float32:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("a %T", v)
}

// Params is a target's override_params compiled for sending: the typed
// fields to set on each operation's request, and the keys that go out as
// body fields. Nothing in it changes after Compile, so every attempt
// shares it read-only.
type Params struct {
	set []setting

	chatExtra, chatExtraNoPrompt, completionExtra, embeddingExtra map[string]any
}

// setting is one typed parameter with its value.
type setting struct {
	p *param
	v value
}

// Compile checks override_params as Check does and compiles them; the
// error names the first key (in sorted order) with a problem.
func Compile(in map[string]any) (Params, error) {
	var out Params
	if len(in) == 0 {
		return out, nil
	}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		p, v, err := check(k, in[k])
		if err != nil {
			if k == "" {
				return Params{}, err
			}
			return Params{}, fmt.Errorf("%s: %w", k, err)
		}
		if p != nil && p.ops != 0 {
			if p.kind == whole {
				i := v.i
				v.ip = &i
			}
			out.set = append(out.set, setting{p, v})
		}
	}
	out.chatExtra = extra(in, chat, "")
	out.chatExtraNoPrompt = extra(in, chat, PromptVersion)
	out.completionExtra = extra(in, completion, "")
	out.embeddingExtra = extra(in, embedding, "")
	return out, nil
}

// extra returns the keys of in that have no typed field in the request
// of operation o, leaving out skip, or nil.
func extra(in map[string]any, o op, skip string) map[string]any {
	var out map[string]any
	for k, v := range in {
		if p := lookup(k); k == skip || p != nil && p.ops&o != 0 {
			continue
		}
		if out == nil {
			out = make(map[string]any)
		}
		out[k] = v
	}
	return out
}

// Chat sets the typed fields of a chat request.
func (ps *Params) Chat(r *openai.ChatCompletionRequest) {
	for i := range ps.set {
		if s := &ps.set[i]; s.p.chat.ok {
			s.p.write(unsafe.Pointer(r), s.p.chat, &s.v)
		}
	}
}

// Completion sets the typed fields of a completion request.
func (ps *Params) Completion(r *openai.CompletionRequest) {
	for i := range ps.set {
		if s := &ps.set[i]; s.p.completion.ok {
			s.p.write(unsafe.Pointer(r), s.p.completion, &s.v)
		}
	}
}

// Embedding sets the typed fields of an embedding request.
func (ps *Params) Embedding(r *openai.EmbeddingRequest) {
	for i := range ps.set {
		if s := &ps.set[i]; s.p.embedding.ok {
			s.p.write(unsafe.Pointer(r), s.p.embedding, &s.v)
		}
	}
}

// ChatExtra returns the body fields of a chat request; withPrompt false
// leaves out PromptVersion.
func (ps *Params) ChatExtra(withPrompt bool) map[string]any {
	if withPrompt {
		return ps.chatExtra
	}
	return ps.chatExtraNoPrompt
}

// CompletionExtra returns the body fields of a completion request.
func (ps *Params) CompletionExtra() map[string]any { return ps.completionExtra }

// EmbeddingExtra returns the body fields of an embedding request.
func (ps *Params) EmbeddingExtra() map[string]any { return ps.embeddingExtra }
