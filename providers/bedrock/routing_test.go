package bedrock_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// Two Bedrock models behind one account: the virtual model tries the
// primary first and falls back to the backup.
const (
	primaryModel = "us.anthropic.claude-sonnet-4-20250514-v1:0"
	backupModel  = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	virtualModel = "assistants/claude"
)

// routedClient is a routing.Client over srv with the primary and backup
// targets; the primary is not retried, so a failure falls back at once.
func routedClient(t *testing.T, srv *server) *routing.Client {
	t.Helper()
	c, err := routing.New(
		routing.WithProvider("bedrock", srv.provider(t)),
		routing.WithGroup(routing.Group{Name: "assistants", Models: []routing.VirtualModel{{
			Name: "claude",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "bedrock/" + primaryModel, Priority: 0, Retry: &target.Retry{Attempts: 0}},
				{Ref: "bedrock/" + backupModel, Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	return c
}

// byModel routes a server's requests to one script per model.
func byModel(scripts map[string]func(ev *bedrocktest.Events)) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		script, ok := scripts[req.Model]
		if !ok {
			bedrocktest.WriteError(w, 404, "ResourceNotFoundException", "no model "+req.Model)
			return
		}
		script(bedrocktest.NewEvents(w, "req-"+req.Model[:6]))
	}
}

func wholeAnswer(text string) func(ev *bedrocktest.Events) {
	return func(ev *bedrocktest.Events) {
		_ = ev.MessageStart()
		_ = ev.Text(0, text)
		_ = ev.MessageStop("end_turn")
		_ = ev.Metadata(bedrocktest.Usage{InputTokens: 7, OutputTokens: 3})
	}
}

// textAndThenFail sends text (if any), then the model's stream error.
func textAndThenFail(text string) func(ev *bedrocktest.Events) {
	return func(ev *bedrocktest.Events) {
		_ = ev.MessageStart()
		if text != "" {
			_ = ev.Text(0, text)
		}
		_ = modelStreamError(ev)
	}
}

func routedStream(t *testing.T, c *routing.Client, usage bool, opts ...routing.StreamOption) (*routing.Stream, *routing.Trace) {
	t.Helper()
	var tr routing.Trace
	req := openai.ChatCompletionRequest{
		Model:    virtualModel,
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Weather in Paris?"}},
		Tools:    []openai.Tool{weatherTool},
	}
	if usage {
		req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	st, err := c.ChatStream(routing.WithTrace(context.Background(), &tr), req, opts...)
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, &tr
}

// TestRoutingStreamedToolCall: a tool call streamed from Bedrock through a
// virtual model arrives whole, with the usage of the metadata event.
func TestRoutingStreamedToolCall(t *testing.T) {
	srv := newServer(t, byModel(map[string]func(*bedrocktest.Events){
		primaryModel: func(ev *bedrocktest.Events) {
			_ = ev.MessageStart()
			_ = ev.ToolStart(0, "tooluse_7Yk", "get_weather")
			_ = ev.ToolInput(0, `{"ci`)
			_ = ev.ToolInput(0, `ty":"Paris"}`)
			_ = ev.BlockStop(0)
			_ = ev.MessageStop("tool_use")
			_ = ev.Metadata(bedrocktest.Usage{InputTokens: 412, OutputTokens: 57})
		},
	}))
	st, tr := routedStream(t, routedClient(t, srv), true)
	type call struct{ ID, Name, Args string }
	var calls []call
	var finish []openai.FinishReason
	var usage *openai.Usage
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if chunk.Usage != nil {
			usage = chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.FinishReason != "" {
				finish = append(finish, ch.FinishReason)
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatalf("tool call chunk without an index: %+v", tc)
				}
				for len(calls) <= *tc.Index {
					calls = append(calls, call{})
				}
				c := &calls[*tc.Index]
				c.ID += tc.ID
				c.Name += tc.Function.Name
				c.Args += tc.Function.Arguments
			}
		}
	}
	if diff := cmp.Diff(calls, []call{{"tooluse_7Yk", "get_weather", `{"city":"Paris"}`}}); diff != "" {
		t.Errorf("tool calls (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(finish, []openai.FinishReason{openai.FinishReasonToolCalls}); diff != "" {
		t.Errorf("finish reasons (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(usage, &openai.Usage{PromptTokens: 412, CompletionTokens: 57, TotalTokens: 469}); diff != "" {
		t.Errorf("usage (-got +want):\n%s", diff)
	}
	if tr.Resolved != "bedrock/"+primaryModel {
		t.Errorf("served by %q; want the primary", tr.Resolved)
	}
}

// readText reads a routed stream to its end, returning its text and the
// error it ended with.
func readText(t *testing.T, st *routing.Stream) (string, error) {
	t.Helper()
	var b strings.Builder
	for range 1000 {
		chunk, err := st.Recv()
		if err != nil {
			return b.String(), err
		}
		for _, ch := range chunk.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	t.Fatal("stream did not end")
	return "", nil
}

// TestRoutingStreamErrorBeforeContent: a modelStreamErrorException before
// the first content chunk is a failed attempt (502), and the call falls
// back to the next target.
func TestRoutingStreamErrorBeforeContent(t *testing.T) {
	srv := newServer(t, byModel(map[string]func(*bedrocktest.Events){
		primaryModel: textAndThenFail(""),
		backupModel:  wholeAnswer("From the backup."),
	}))
	st, tr := routedStream(t, routedClient(t, srv), false)
	text, err := readText(t, st)
	if err != io.EOF {
		t.Fatalf("stream ended with %v; want io.EOF", err)
	}
	if text != "From the backup." {
		t.Errorf("text %q; want the backup's answer", text)
	}
	type attempt struct {
		Target string
		Status int
		Class  string
	}
	var got []attempt
	for _, a := range tr.Attempts {
		got = append(got, attempt{a.Target, a.Status, a.Class})
	}
	want := []attempt{{"bedrock/" + primaryModel, 502, "fallback"}, {"bedrock/" + backupModel, 200, "ok"}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("attempts (-got +want):\n%s", diff)
	}
}

// TestRoutingStreamErrorAfterContent: once content was delivered, a
// modelStreamErrorException ends the stream with an error matching
// routing.ErrStreamInterrupted, never a silent switch; with
// RestartOnInterrupt the answer starts over on the next target.
func TestRoutingStreamErrorAfterContent(t *testing.T) {
	scripts := map[string]func(*bedrocktest.Events){
		primaryModel: textAndThenFail("The weather in Par"),
		backupModel:  wholeAnswer("From the backup."),
	}

	t.Run("interrupted", func(t *testing.T) {
		srv := newServer(t, byModel(scripts))
		st, _ := routedStream(t, routedClient(t, srv), false)
		text, err := readText(t, st)
		if text != "The weather in Par" {
			t.Errorf("text before the break %q; want the primary's partial answer", text)
		}
		if !errors.Is(err, routing.ErrStreamInterrupted) {
			t.Fatalf("stream ended with %v; want routing.ErrStreamInterrupted", err)
		}
		var sc interface{ StatusCode() int }
		if !errors.As(err, &sc) || sc.StatusCode() != 502 {
			t.Errorf("interruption status %v; want 502 from the model's stream error", err)
		}
		var se *routing.StreamError
		if errors.As(err, &se) && se.Delivered != "The weather in Par" {
			t.Errorf("StreamError.Delivered %q; want what was delivered", se.Delivered)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("server got %d requests; want 1 (no silent switch)", n)
		}
	})

	t.Run("restarted", func(t *testing.T) {
		srv := newServer(t, byModel(scripts))
		st, tr := routedStream(t, routedClient(t, srv), false, routing.RestartOnInterrupt(true))
		text, err := readText(t, st)
		if text != "The weather in Par" || !errors.Is(err, routing.ErrStreamRestarted) {
			t.Fatalf("first part %q ended with %v; want the partial answer and routing.ErrStreamRestarted", text, err)
		}
		text, err = readText(t, st)
		if text != "From the backup." || err != io.EOF {
			t.Errorf("after the restart %q ended with %v; want the backup's whole answer and io.EOF", text, err)
		}
		if tr.Resolved != "bedrock/"+backupModel {
			t.Errorf("served by %q; want the backup", tr.Resolved)
		}
	})
}

// TestRoutingChatFallback: a Bedrock model error (424 on the wire) is a
// 502, which the routing layer's defaults fall back from.
func TestRoutingChatFallback(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		if req.Model == primaryModel {
			bedrocktest.WriteError(w, 424, "ModelErrorException", "The model returned an error.")
			return
		}
		answer("From the backup.")(w, r, req)
	})
	var tr routing.Trace
	resp, err := routedClient(t, srv).Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{
		Model: virtualModel, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Hi"}},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "From the backup." {
		t.Errorf("answer %q; want the backup's", got)
	}
	if len(tr.Attempts) != 2 || tr.Attempts[0].Status != 502 || tr.Attempts[0].Class != "fallback" {
		t.Errorf("attempts %+v; want the primary's 502 to fall back", tr.Attempts)
	}
}

func TestRoutingRefusesWhatConverseCannotTake(t *testing.T) {
	// n > 1 is the caller's request, not a failing target: each target
	// refuses it before sending, nothing reaches Bedrock, and the call
	// fails with routing.ErrInvalidRequest.
	srv := newServer(t, answer("never"))
	var tr routing.Trace
	_, err := routedClient(t, srv).Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{
		Model: virtualModel, N: 2, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Hi"}},
	})
	if !errors.Is(err, routing.ErrInvalidRequest) || !strings.Contains(err.Error(), "n:") {
		t.Fatalf("Chat = %v; want ErrInvalidRequest naming n", err)
	}
	srv.mu.Lock()
	sent := len(srv.reqs)
	srv.mu.Unlock()
	if sent != 0 {
		t.Errorf("%d requests reached Bedrock; want none", sent)
	}
	if len(tr.Attempts) != 2 || tr.Attempts[0].Class != "invalid" || tr.Attempts[1].Class != "invalid" {
		t.Errorf("attempts %+v; want both targets to refuse it", tr.Attempts)
	}
}
