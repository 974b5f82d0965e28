package overrides

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// samples are values of every shape a manifest or Go code may give.
var samples = []any{
	nil, true, "text", "", 0, 7, -3, int64(1 << 40), uint64(5), uint64(math.MaxUint64),
	0.5, 2.0, 1.5, math.NaN(), math.Inf(1), 1e300, float32(0.25),
	[]any{"a", "b"}, []any{"a", 1}, []any{}, []string{"x"},
	map[string]any{"a": 1}, func() {}, make(chan int),
}

// Loading and sending agree: Compile accepts a value exactly when Check
// does, for every key of the table and for keys it does not know.
func TestCheckAndCompileAgree(t *testing.T) {
	keys := append(Keys(), "logit_bias", "")
	for _, k := range keys {
		for _, v := range samples {
			checkErr := Check(k, v)
			_, compileErr := Compile(map[string]any{k: v})
			if (checkErr == nil) != (compileErr == nil) {
				t.Errorf("%q = %#v: Check says %v, Compile says %v", k, v, checkErr, compileErr)
			}
			if compileErr != nil && k != "" && !strings.HasPrefix(compileErr.Error(), k+": ") {
				t.Errorf("Compile error %q does not name the key %q", compileErr, k)
			}
		}
	}
}

// apply returns what zero requests of each operation send once ps is
// applied to them: their JSON fields and the extra body fields.
func apply(ps *Params) (chatReq, completionReq, embeddingReq map[string]any) {
	var c openai.ChatCompletionRequest
	var p openai.CompletionRequest
	var e openai.EmbeddingRequest
	ps.Chat(&c)
	ps.Completion(&p)
	ps.Embedding(&e)
	return fields(c, ps.ChatExtra(true)), fields(p, ps.CompletionExtra()), fields(e, ps.EmbeddingExtra())
}

// fields is what a request sends: its JSON object plus the extra fields.
func fields(req any, extra map[string]any) map[string]any {
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Every parameter of the table reaches each request it applies to, by
// its own JSON name, as a typed field where the request has one and as a
// body field where it has none.
func TestEveryParameterIsSent(t *testing.T) {
	good := map[kind]any{number: 0.5, whole: 3, text: "float", texts: []any{"END"}}
	for _, p := range table {
		v := good[p.kind]
		if err := Check(p.key, v); err != nil {
			t.Fatalf("%s: sample %v rejected: %v", p.key, v, err)
		}
		ps, err := Compile(map[string]any{p.key: v})
		if err != nil {
			t.Fatal(err)
		}
		sentChat, sentCompletion, sentEmbedding := apply(&ps)
		for _, op := range []struct {
			name  string
			typed bool
			sent  map[string]any
		}{{"chat", p.ops&chat != 0, sentChat}, {"completion", p.ops&completion != 0, sentCompletion}, {"embedding", p.ops&embedding != 0, sentEmbedding}} {
			got, ok := op.sent[p.key]
			if !ok {
				t.Errorf("%s: not sent with %s", p.key, op.name)
				continue
			}
			var extra map[string]any
			switch op.name {
			case "chat":
				extra = ps.ChatExtra(true)
			case "completion":
				extra = ps.CompletionExtra()
			default:
				extra = ps.EmbeddingExtra()
			}
			if _, isExtra := extra[p.key]; isExtra == op.typed {
				t.Errorf("%s with %s: a body field = %v, want %v", p.key, op.name, isExtra, !op.typed)
			}
			if op.typed && p.kind == texts && !reflect.DeepEqual(got, []any{"END"}) || op.typed && p.kind == text && got != "float" {
				t.Errorf("%s with %s: sent %#v", p.key, op.name, got)
			}
		}
	}
}

func TestPromptVersionHeldBack(t *testing.T) {
	ps, err := Compile(map[string]any{PromptVersion: "fqn:1", "logit_bias": map[string]any{"1": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ps.ChatExtra(true)[PromptVersion]; !ok {
		t.Error("prompt version not sent with a chat")
	}
	if _, ok := ps.ChatExtra(false)[PromptVersion]; ok {
		t.Error("prompt version sent when held back")
	}
	if _, ok := ps.ChatExtra(false)["logit_bias"]; !ok {
		t.Error("holding back the prompt version dropped another body field")
	}
}

func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		want string
	}{
		{"", 1, "empty key"},
		{"temperature", "hot", `want a number, got the string "hot"`},
		{"temperature", math.Inf(1), "+Inf is not a finite number"},
		{"max_tokens", 1.5, "want a whole number, got 1.5"},
		{"stop", []any{1}, "want a string or a list of strings, got a list"},
		{PromptVersion, 3, "want a string, got 3"},
		{"callback", func() {}, "cannot be sent as JSON: a func()"},
		{"n", strings.Repeat("é", 100), `want a whole number, got the string "` + strings.Repeat("é", 64) + `…"`},
	} {
		if err := Check(tc.key, tc.v); err == nil || err.Error() != tc.want {
			t.Errorf("Check(%q, %.20v) = %v, want %q", tc.key, tc.v, err, tc.want)
		}
	}
}

// A row naming a field the request lacks, or one of another type, stops
// the program when the package starts, so no test run can miss it.
func TestBadRowPanics(t *testing.T) {
	for _, p := range []param{
		{key: "temprature", kind: number, ops: chat},
		{key: "user", kind: number, ops: chat},
		{key: "stop", kind: text, ops: completion},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("row %+v was accepted", p)
				}
			}()
			find[openai.ChatCompletionRequest](&p, chat)
			find[openai.CompletionRequest](&p, completion)
		}()
	}
	p := param{key: "user", kind: text, ops: chat}
	if f := find[openai.EmbeddingRequest](&p, embedding); f.ok {
		t.Error("a field was found for an operation the row does not list")
	}
}

// Setting the typed fields allocates nothing, a *int field (seed)
// included: they are set on every attempt's request.
func TestSettingAllocatesNothing(t *testing.T) {
	ps, err := Compile(map[string]any{"seed": 7, "max_tokens": 256, "temperature": 0.2, "stop": []any{"END"}})
	if err != nil {
		t.Fatal(err)
	}
	var chat openai.ChatCompletionRequest
	var completion openai.CompletionRequest
	if n := testing.AllocsPerRun(100, func() {
		chat, completion = openai.ChatCompletionRequest{}, openai.CompletionRequest{}
		ps.Chat(&chat)
		ps.Completion(&completion)
	}); n != 0 {
		t.Errorf("setting the typed fields: %v allocations, want 0", n)
	}
	if chat.Seed == nil || *chat.Seed != 7 || completion.Seed == nil || *completion.Seed != 7 {
		t.Errorf("seed not set: chat %v, completion %v", chat.Seed, completion.Seed)
	}
}
