package anthropic_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// toolDelta is what a chunk says of one tool call.
type toolDelta struct {
	Index          int
	ID, Name, Args string
}

// got is what one chunk carries, in short.
type got struct {
	Role, Content, Reasoning string
	Tools                    []toolDelta
	Finish                   goopenai.FinishReason
	Choices                  int
	Usage                    *goopenai.Usage
}

func summarize(t *testing.T, c goopenai.ChatCompletionStreamResponse) got {
	t.Helper()
	if c.ID != "msg_01" || c.Model != "claude-sonnet-4-5-20250929" || c.Object != "chat.completion.chunk" || c.Created == 0 {
		t.Errorf("chunk id %q, model %q, object %q, created %d; want the message's on every chunk", c.ID, c.Model, c.Object, c.Created)
	}
	g := got{Choices: len(c.Choices), Usage: c.Usage}
	for _, ch := range c.Choices {
		g.Role += ch.Delta.Role
		g.Content += ch.Delta.Content
		g.Reasoning += ch.Delta.ReasoningContent
		g.Finish = ch.FinishReason
		for _, tc := range ch.Delta.ToolCalls {
			if tc.Index == nil {
				t.Errorf("tool call %+v without an index", tc)
				continue
			}
			g.Tools = append(g.Tools, toolDelta{Index: *tc.Index, ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
		}
	}
	return g
}

// streamOf starts a stream whose upstream sends body, then fails with
// readErr (nil: the body just ends).
func streamOf(t *testing.T, body string, readErr error, includeUsage bool) providers.Stream {
	t.Helper()
	p := memProvider(func(r *http.Request) (*http.Response, error) {
		resp := respond(r, http.StatusOK, http.Header{"Content-Type": {"text/event-stream"}}, "")
		var rd io.Reader = strings.NewReader(body)
		if readErr != nil {
			rd = io.MultiReader(rd, errReader{readErr})
		}
		resp.Body = io.NopCloser(rd)
		return resp, nil
	})
	req := chatRequest()
	if includeUsage {
		req.Request.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	}
	st, err := p.ChatStream(t.Context(), req)
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// readAll reads st to its end: the chunks, then the error (io.EOF for a
// complete answer).
func readAll(t *testing.T, st providers.Stream) ([]got, error) {
	t.Helper()
	var out []got
	for range 1000 {
		c, err := st.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, summarize(t, c))
	}
	t.Fatal("the stream did not end")
	return nil, nil
}

var (
	roleChunk = got{Role: "assistant", Choices: 1}
	stopUsage = &goopenai.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12}
)

func content(s string) got   { return got{Content: s, Choices: 1} }
func reasoning(s string) got { return got{Reasoning: s, Choices: 1} }
func tools(d ...toolDelta) got {
	return got{Tools: d, Choices: 1}
}

func TestStreamChunks(t *testing.T) {
	toolStart := func(index int, id, name string) sse {
		return sse{"content_block_start", `{"type":"content_block_start","index":` + itoa(index) + `,"content_block":{"type":"tool_use","id":"` + id + `","name":"` + name + `","input":{}}}`}
	}
	jsonDelta := func(index int, partial string) sse {
		return sse{"content_block_delta", `{"type":"content_block_delta","index":` + itoa(index) + `,"delta":{"type":"input_json_delta","partial_json":` + quote(partial) + `}}`}
	}
	tests := []struct {
		name         string
		events       []sse
		includeUsage bool
		want         []got
	}{
		{
			name:   "text, with the usage on the finish chunk",
			events: helloStream(),
			want:   []got{roleChunk, content("Hello"), content(" there!"), {Finish: "stop", Choices: 1, Usage: stopUsage}},
		},
		{
			name:         "text, with the usage in a last chunk as OpenAI sends it",
			events:       helloStream(),
			includeUsage: true,
			want:         []got{roleChunk, content("Hello"), content(" there!"), {Finish: "stop", Choices: 1}, {Usage: stopUsage}},
		},
		{
			name: "tool calls numbered by tool, not by content block",
			events: []sse{
				evMessageStart(9),
				evTextStart(0), evText(0, "Checking."), evBlockStop(0),
				toolStart(1, "toolu_1", "get_weather"), jsonDelta(1, ""), jsonDelta(1, `{"city":`), jsonDelta(1, `"Paris"}`), evBlockStop(1),
				{"content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}`},
				jsonDelta(2, `{"query":"x"}`), evBlockStop(2),
				toolStart(3, "toolu_2", "now"), jsonDelta(3, `{}`), evBlockStop(3),
				evMessageDelta("tool_use", 40), evMessageStop,
			},
			want: []got{
				roleChunk, content("Checking."),
				tools(toolDelta{Index: 0, ID: "toolu_1", Name: "get_weather"}),
				tools(toolDelta{Index: 0, Args: `{"city":`}),
				tools(toolDelta{Index: 0, Args: `"Paris"}`}),
				tools(toolDelta{Index: 1, ID: "toolu_2", Name: "now"}),
				tools(toolDelta{Index: 1, Args: `{}`}),
				{Finish: "tool_calls", Choices: 1, Usage: &goopenai.Usage{PromptTokens: 9, CompletionTokens: 40, TotalTokens: 49}},
			},
		},
		{
			name: "thinking as reasoning content; signatures, citations, pings and unknown events carry nothing",
			events: []sse{
				evMessageStart(9),
				{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
				{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}`},
				{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}`},
				evBlockStop(0), evPing,
				{"a_future_event", `{"type":"a_future_event","index":0}`},
				evTextStart(1),
				{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}`},
				evText(1, "Done."), evBlockStop(1),
				evMessageDelta("end_turn", 3), evMessageStop,
			},
			want: []got{roleChunk, reasoning("Let me think."), content("Done."), {Finish: "stop", Choices: 1, Usage: stopUsage}},
		},
		{
			name: "usage totals in message_delta replace those of message_start",
			events: []sse{
				evMessageStart(9), evTextStart(0), evText(0, "Hi"), evBlockStop(0),
				{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":10,"cache_read_input_tokens":1000,"cache_creation_input_tokens":50,"output_tokens":7}}`},
				evMessageStop,
			},
			want: []got{roleChunk, content("Hi"), {Finish: "length", Choices: 1, Usage: &goopenai.Usage{
				PromptTokens: 1060, CompletionTokens: 7, TotalTokens: 1067,
				PromptTokensDetails: &goopenai.PromptTokensDetails{CachedTokens: 1000},
			}}},
		},
		{
			name:   "an empty answer",
			events: []sse{evMessageStart(9), evMessageDelta("end_turn", 0), evMessageStop},
			want:   []got{roleChunk, {Finish: "stop", Choices: 1, Usage: &goopenai.Usage{PromptTokens: 9, TotalTokens: 9}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := streamOf(t, sseBody(tt.events...), nil, tt.includeUsage)
			chunks, err := readAll(t, st)
			if err != io.EOF {
				t.Errorf("Recv error = %v; want io.EOF itself", err)
			}
			if diff := cmp.Diff(chunks, tt.want); diff != "" {
				t.Errorf("chunks (-got +want):\n%s", diff)
			}
			if _, err := st.Recv(); err != io.EOF {
				t.Errorf("Recv after io.EOF = %v; want io.EOF again", err)
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// TestStreamFailures checks every way a stream can end short of its
// message_stop: never io.EOF, always a *providers.Error, and never a
// finish reason delivered first.
func TestStreamFailures(t *testing.T) {
	start := []sse{evMessageStart(9), evTextStart(0), evText(0, "Hello")}
	errorEvent := func(typ string) sse { return sse{"error", errorJSON(typ, "something went wrong")} }
	tests := []struct {
		name    string
		body    string
		readErr error
		want    providers.Error // Status and Code
	}{
		{
			name: "cut mid-answer",
			body: sseBody(start...),
			want: providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name: "cut after message_delta, before message_stop",
			body: sseBody(append(start, evBlockStop(0), evMessageDelta("end_turn", 3))...),
			want: providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name: "cut in the middle of an event",
			body: sseBody(start...) + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_de",
			want: providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name: "message_stop never finished by its blank line",
			body: sseBody(append(start, evBlockStop(0), evMessageDelta("end_turn", 3))...) + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n",
			want: providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name:    "connection reset mid-answer",
			body:    sseBody(start...),
			readErr: syscall.ECONNRESET,
			want:    providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name:    "chunked body ended early",
			body:    sseBody(start...),
			readErr: io.ErrUnexpectedEOF,
			want:    providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
		{
			name: "an event that is not JSON",
			body: sseBody(append(start, sse{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminated}`})...),
			want: providers.Error{Status: 502, Code: anth.CodeMalformedEvent},
		},
		{
			name: "an event of the wrong shape",
			body: sseBody(append(start, sse{"content_block_delta", `["not", "an", "event"]`})...),
			want: providers.Error{Status: 502, Code: anth.CodeMalformedEvent},
		},
		{
			name: "a text delta without its text",
			body: sseBody(append(start, sse{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}`})...),
			want: providers.Error{Status: 502, Code: anth.CodeMalformedEvent},
		},
		{
			name: "a tool_use block without a name",
			body: sseBody(append(start, sse{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","input":{}}}`})...),
			want: providers.Error{Status: 502, Code: anth.CodeMalformedEvent},
		},
		{
			name: "an event line longer than the SDK reads",
			body: sseBody(start...) + "event: content_block_delta\ndata: " + strings.Repeat("x", 33<<20) + "\n\n",
			want: providers.Error{Status: 502, Code: anth.CodeMalformedEvent},
		},
		{
			name: "overloaded mid-stream",
			body: sseBody(append(start, errorEvent("overloaded_error"))...),
			want: providers.Error{Status: 503, Code: "overloaded_error"},
		},
		{
			name: "rate limited mid-stream",
			body: sseBody(append(start, errorEvent("rate_limit_error"))...),
			want: providers.Error{Status: 429, Code: "rate_limit_error"},
		},
		{
			name: "an internal error mid-stream",
			body: sseBody(append(start, errorEvent("api_error"))...),
			want: providers.Error{Status: 500, Code: "api_error"},
		},
		{
			name: "an error of an unknown type mid-stream",
			body: sseBody(append(start, errorEvent("a_future_error"))...),
			want: providers.Error{Status: 502, Code: "a_future_error"},
		},
		{
			name: "an error event that is not JSON",
			body: sseBody(append(start, sse{"error", "upstream gone"})...),
			want: providers.Error{Status: 502},
		},
		{
			name: "a JSON error body instead of events",
			body: errorJSON("overloaded_error", "Overloaded"),
			want: providers.Error{Status: 502, Code: anth.CodeStreamTruncated},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := streamOf(t, tt.body, tt.readErr, false)
			chunks, err := readAll(t, st)
			if errors.Is(err, io.EOF) {
				t.Fatalf("Recv error = %v, matching io.EOF; want a failure", err)
			}
			pe := asProviderError(t, err)
			if diff := cmp.Diff(providers.Error{Status: pe.Status, Code: pe.Code}, tt.want); diff != "" {
				t.Errorf("error %v (-got +want):\n%s", err, diff)
			}
			for _, c := range chunks {
				if c.Finish != "" {
					t.Errorf("chunk %+v has a finish reason before the failure", c)
				}
			}
			if _, again := st.Recv(); again != err {
				t.Errorf("Recv after the failure = %v; want the same error %v", again, err)
			}
			st.Close()
			if _, err := st.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
				t.Errorf("Recv after Close = %v; want ErrStreamClosed", err)
			}
		})
	}
}

// TestStreamClose checks Close before the end: Recv then reports the
// stream closed, and the server sees its client go away.
func TestStreamClose(t *testing.T) {
	gone := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, evMessageStart(9), evTextStart(0), evText(0, "Hello"))
		<-r.Context().Done()
		close(gone)
	})
	p := newProvider(t, srv)
	st, err := p.ChatStream(t.Context(), chatRequest())
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	for range 2 {
		if _, err := st.Recv(); err != nil {
			t.Fatalf("Recv: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	<-gone
	if _, err := st.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
		t.Errorf("Recv after Close = %v; want ErrStreamClosed", err)
	}
}
