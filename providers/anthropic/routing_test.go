package anthropic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
)

// The tests of this file call Claude through routing.Client, against a
// loopback server speaking Anthropic's wire format, and check that every
// failure a real API produces ends as the configuration allows: the
// answer rescued by a retry or a fallback, or a typed error; never a
// truncated answer presented as complete, never a hang.

const (
	primaryModel = "claude-primary"
	backupModel  = "claude-backup"
	primaryRef   = "claude/" + primaryModel
	backupRef    = "claude/" + backupModel
	virtualModel = "grp/chat"
)

// manifest is a priority chain of two targets, each with one quick
// retry, and the given extra YAML lines (indented as target fields).
func manifest(first, firstExtra, second, secondExtra string) []byte {
	return fmt.Appendf(nil, `name: grp
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: %s
          priority: 0
          retry_config: {attempts: 1, delay: 5}
%s
        - target: %s
          priority: 1
          retry_config: {attempts: 1, delay: 5}
%s
`, first, indent(firstExtra), second, indent(secondExtra))
}

func indent(lines string) string {
	if lines == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		b.WriteString("          " + strings.TrimSpace(l) + "\n")
	}
	return b.String()
}

// claudeProvider is the adapter for u.
func claudeProvider(t testing.TB, u *upstream) *anth.Provider {
	return anth.New(option.WithAPIKey(testKey), option.WithBaseURL(u.URL), option.WithHTTPClient(u.client(t)))
}

// openaiProvider is the OpenAI adapter for u.
func openaiProvider(t testing.TB, u *upstream) *oai.Provider {
	cfg := goopenai.DefaultConfig("sk-openai-test-key-0123456789abcdefghij")
	cfg.BaseURL = u.URL + "/v1"
	cfg.HTTPClient = u.client(t)
	return oai.New(cfg)
}

// router builds a Client or fails the test.
func router(t testing.TB, opts ...routing.Option) *routing.Client {
	t.Helper()
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	return c
}

// try is the part of a Trace attempt the tests compare.
type try struct {
	Target string
	Status int
	Class  string
}

func tries(tr *routing.Trace) []try {
	var out []try
	for _, a := range tr.Attempts {
		out = append(out, try{a.Target, a.Status, a.Class})
	}
	return out
}

func request() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model:    virtualModel,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Tell me something."}},
	}
}

// checkServed checks a Chat answer served whole by ref.
func checkServed(t *testing.T, resp goopenai.ChatCompletionResponse, tr *routing.Trace, ref string) {
	t.Helper()
	model := ref[strings.Index(ref, "/")+1:]
	got := []string{tr.Resolved, resp.Model, resp.Choices[0].Message.Content, string(resp.Choices[0].FinishReason)}
	want := []string{ref, model, answerText(model), "stop"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("[resolved, model, content, finish] (-got +want):\n%s", diff)
	}
}

func TestRoutingChatFailures(t *testing.T) {
	tests := []struct {
		name          string
		primary       []act
		backup        []act
		primaryExtra  string
		wantServedBy  string // "" for an error
		wantStatus    int
		wantCode      string
		wantTries     []try
		backupNotUsed bool
	}{
		{
			name:         "429 with retry-after: waited for, then served",
			primary:      []act{claudeFail(429, "rate_limit_error", "rate limited", "Retry-After-Ms", "20"), claudeOK},
			wantServedBy: primaryRef,
			wantTries:    []try{{primaryRef, 429, "retry"}, {primaryRef, 200, "ok"}},
		},
		{
			name:         "429 with a retry-after longer than a minute: the backup at once",
			primary:      []act{claudeFail(429, "rate_limit_error", "rate limited", "Retry-After", "90")},
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 429, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:         "500 twice: the backup",
			primary:      []act{claudeFail(500, "api_error", "Internal server error")},
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 500, "retry"}, {primaryRef, 500, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:         "529 overloaded: retried as a 503, then the backup",
			primary:      []act{claudeFail(529, "overloaded_error", "Overloaded")},
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 503, "retry"}, {primaryRef, 503, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:         "529 once: the retry rescues it",
			primary:      []act{claudeFail(529, "overloaded_error", "Overloaded"), claudeOK},
			wantServedBy: primaryRef,
			wantTries:    []try{{primaryRef, 503, "retry"}, {primaryRef, 200, "ok"}},
		},
		{
			name:         "connection reset before headers",
			primary:      []act{reset},
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 502, "retry"}, {primaryRef, 502, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:         "no answer at all: a 408 at the request timeout, then the backup",
			primary:      []act{silent},
			primaryExtra: "request_timeout_ms: 300",
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 408, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:          "a prompt too long: a 400 returned at once",
			primary:       []act{claudeFail(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")},
			wantStatus:    400,
			wantCode:      "context_length_exceeded",
			wantTries:     []try{{primaryRef, 400, "stop"}},
			backupNotUsed: true,
		},
		{
			name:         "a prompt too long, with fallback_error_codes: the backup",
			primary:      []act{claudeFail(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")},
			primaryExtra: "fallback_error_codes: [context_length_exceeded]",
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 400, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:          "a content policy refusal: a 400 returned at once",
			primary:       []act{claudeFail(400, "invalid_request_error", "Output blocked by content filtering policy")},
			wantStatus:    400,
			wantCode:      "invalid_request_error",
			wantTries:     []try{{primaryRef, 400, "stop"}},
			backupNotUsed: true,
		},
		{
			name:       "a fallback target that rejects the prefill: its 400",
			primary:    []act{claudeFail(529, "overloaded_error", "Overloaded")},
			backup:     []act{claudeFail(400, "invalid_request_error", "This model does not support assistant message prefill. The conversation must end with a user message.")},
			wantStatus: 400,
			wantCode:   "invalid_request_error",
			wantTries:  []try{{primaryRef, 503, "retry"}, {primaryRef, 503, "fallback"}, {backupRef, 400, "stop"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backup := tt.backup
			if backup == nil {
				backup = []act{claudeOK}
			}
			u := newUpstream(t, map[string][]act{primaryModel: tt.primary, backupModel: backup})
			c := router(t, routing.WithProvider("claude", claudeProvider(t, u)),
				routing.WithManifest(manifest(primaryRef, tt.primaryExtra, backupRef, "")))
			var tr routing.Trace
			ctx := routing.WithTrace(t.Context(), &tr)
			resp, err := c.Chat(ctx, request())
			if tt.wantServedBy != "" {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				checkServed(t, resp, &tr, tt.wantServedBy)
			} else {
				var sc interface{ StatusCode() int }
				if !errors.As(err, &sc) || sc.StatusCode() != tt.wantStatus {
					t.Fatalf("Chat error = %v; want status %d", err, tt.wantStatus)
				}
				last := tr.Attempts[len(tr.Attempts)-1]
				if pe, ok := providers.AsError(last.Err); !ok || pe.Code != tt.wantCode {
					t.Errorf("last attempt's error %v; want code %q", last.Err, tt.wantCode)
				}
			}
			if diff := cmp.Diff(tries(&tr), tt.wantTries); diff != "" {
				t.Errorf("attempts (-got +want):\n%s", diff)
			}
			if tt.backupNotUsed && u.callsTo(backupModel) != 0 {
				t.Errorf("the backup received %d requests; want none", u.callsTo(backupModel))
			}
		})
	}
}

// readStream reads st to its end and returns the content delivered, the
// chunks with a finish reason, and the error that ended it.
func readStream(t *testing.T, st *routing.Stream) (string, int, error) {
	t.Helper()
	var text strings.Builder
	finishes := 0
	for range 1000 {
		ch, err := st.Recv()
		if err != nil {
			return text.String(), finishes, err
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				finishes++
			}
		}
	}
	t.Fatal("the stream did not end")
	return "", 0, nil
}

func TestRoutingStreamFailures(t *testing.T) {
	first := func(model string) string { return claudeContentEvents(model)[0].data }
	_ = first
	tests := []struct {
		name         string
		primary      []act
		primaryExtra string
		restart      bool
		// A complete answer from wantServedBy, or an interruption with
		// wantStatus and wantCode after the first piece of the primary's.
		wantServedBy string
		wantStatus   int
		wantCode     string
		wantTries    []try
	}{
		{
			name:         "429 at the start: retried, then served",
			primary:      []act{claudeFail(429, "rate_limit_error", "rate limited", "Retry-After-Ms", "20"), claudeStream},
			wantServedBy: primaryRef,
			wantTries:    []try{{primaryRef, 429, "retry"}, {primaryRef, 200, "ok"}},
		},
		{
			name: "overloaded before the first token: the error event is a failed attempt",
			primary: []act{func(w http.ResponseWriter, r *http.Request, m string, s <-chan struct{}) {
				writeSSE(w, append(claudeStartEvents(m), sse{"error", errorJSON("overloaded_error", "Overloaded")})...)
			}},
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 503, "retry"}, {primaryRef, 503, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:         "slow first token: a 408 at ttft_timeout_ms, then the backup",
			primary:      []act{claudeSlowStart},
			primaryExtra: "ttft_timeout_ms: 300",
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 408, "fallback"}, {backupRef, 200, "ok"}},
		},
		{
			name:       "cut mid-answer",
			primary:    []act{claudeStreamThen(nil, nil)},
			wantStatus: 502,
			wantCode:   providers.CodeStreamTruncated,
			wantTries:  []try{{primaryRef, 502, "interrupted"}},
		},
		{
			name:         "cut mid-answer, restarted on the backup",
			primary:      []act{claudeStreamThen(nil, nil)},
			restart:      true,
			wantServedBy: backupRef,
			wantTries:    []try{{primaryRef, 502, "interrupted"}, {backupRef, 200, "ok"}},
		},
		{
			name:       "without message_stop",
			primary:    []act{claudeStreamThen([]sse{evBlockStop(0), evMessageDelta("end_turn", 9)}, nil)},
			wantStatus: 502,
			wantCode:   providers.CodeStreamTruncated,
			wantTries:  []try{{primaryRef, 502, "interrupted"}},
		},
		{
			name:         "a stall: a 408 at stream_idle_timeout_ms",
			primary:      []act{claudeStreamThen(nil, silent)},
			primaryExtra: "stream_idle_timeout_ms: 300",
			wantStatus:   408,
			wantCode:     providers.CodeStreamIdleTimeout,
			wantTries:    []try{{primaryRef, 408, "interrupted"}},
		},
		{
			name:       "a malformed event",
			primary:    []act{claudeStreamThen([]sse{{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminated}`}}, nil)},
			wantStatus: 502,
			wantCode:   providers.CodeMalformedEvent,
			wantTries:  []try{{primaryRef, 502, "interrupted"}},
		},
		{
			name:       "overloaded mid-answer",
			primary:    []act{claudeStreamThen([]sse{{"error", errorJSON("overloaded_error", "Overloaded")}}, nil)},
			wantStatus: 503,
			wantCode:   "overloaded_error",
			wantTries:  []try{{primaryRef, 503, "interrupted"}},
		},
		{
			name:       "connection reset mid-answer",
			primary:    []act{claudeStreamThen(nil, reset)},
			wantStatus: 502,
			wantCode:   providers.CodeStreamTruncated,
			wantTries:  []try{{primaryRef, 502, "interrupted"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t, map[string][]act{primaryModel: tt.primary, backupModel: {claudeStream}})
			c := router(t, routing.WithProvider("claude", claudeProvider(t, u)),
				routing.WithManifest(manifest(primaryRef, tt.primaryExtra, backupRef, "")),
				routing.WithStreamRestart(tt.restart))
			var tr routing.Trace
			ctx := routing.WithTrace(t.Context(), &tr)
			st, err := c.ChatStream(ctx, request())
			if err != nil {
				t.Fatalf("ChatStream: %v", err)
			}
			defer st.Close()
			text, finishes, err := readStream(t, st)
			switch {
			case tt.restart:
				if !errors.Is(err, routing.ErrStreamRestarted) {
					t.Fatalf("Recv error = %v; want the restart announced", err)
				}
				text, finishes, err = readStream(t, st)
				fallthrough
			case tt.wantServedBy != "":
				model := tt.wantServedBy[strings.Index(tt.wantServedBy, "/")+1:]
				if err != io.EOF {
					t.Errorf("Recv error = %v; want io.EOF after the whole answer", err)
				}
				if diff := cmp.Diff([]any{text, finishes, tr.Resolved}, []any{answerText(model), 1, tt.wantServedBy}); diff != "" {
					t.Errorf("[content, finish reasons, resolved] (-got +want):\n%s", diff)
				}
			default:
				if !errors.Is(err, routing.ErrStreamInterrupted) || errors.Is(err, io.EOF) {
					t.Fatalf("Recv error = %v; want an interruption", err)
				}
				var sc interface{ StatusCode() int }
				pe, ok := providers.AsError(err)
				if !errors.As(err, &sc) || !ok {
					t.Fatalf("Recv error = %v; want a status and a provider error", err)
				}
				if diff := cmp.Diff([]any{sc.StatusCode(), pe.Code}, []any{tt.wantStatus, tt.wantCode}); diff != "" {
					t.Errorf("[status, code] (-got +want):\n%s", diff)
				}
				if want := claudeContentEvents(primaryModel)[0]; !strings.Contains(want.data, text) || text == "" || finishes != 0 {
					t.Errorf("delivered %q with %d finish reasons before the interruption; want the first piece only, unfinished", text, finishes)
				}
			}
			if diff := cmp.Diff(tries(&tr), tt.wantTries); diff != "" {
				t.Errorf("attempts (-got +want):\n%s", diff)
			}
		})
	}
}

// TestRoutingFlappingPrimary sends calls to a primary that fails every
// other request: every call is served whole, by a retry or the backup.
func TestRoutingFlappingPrimary(t *testing.T) {
	var script []act
	for range 20 {
		script = append(script, claudeFail(529, "overloaded_error", "Overloaded"), claudeOK)
	}
	u := newUpstream(t, map[string][]act{primaryModel: script, backupModel: {claudeOK}})
	c := router(t, routing.WithProvider("claude", claudeProvider(t, u)),
		routing.WithManifest(manifest(primaryRef, "", backupRef, "")))
	for i := range 8 {
		var tr routing.Trace
		resp, err := c.Chat(routing.WithTrace(t.Context(), &tr), request())
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		checkServed(t, resp, &tr, tr.Resolved)
		if tr.Resolved != primaryRef && tr.Resolved != backupRef {
			t.Errorf("call %d served by %q", i, tr.Resolved)
		}
	}
}

// TestMixedChains puts Claude and OpenAI in one chain, each way round,
// and fails the primary in each way a real API does: every call is
// served whole by the fallback, and the Trace names both attempts.
func TestMixedChains(t *testing.T) {
	const (
		claudeRef = "claude/claude-sonnet-4-5"
		gptRef    = "openai/gpt-4o"
	)
	tests := []struct {
		name          string
		claudePrimary bool
		fail          act
		extra         string // YAML of the primary target
		stream        bool
		wantStatus    int // of the primary's last attempt
	}{
		{name: "Claude overloaded", claudePrimary: true, fail: claudeFail(529, "overloaded_error", "Overloaded"), wantStatus: 503},
		{name: "Claude rate limited for 90s", claudePrimary: true, fail: claudeFail(429, "rate_limit_error", "rate limited", "Retry-After", "90"), wantStatus: 429},
		{name: "Claude internal error", claudePrimary: true, fail: claudeFail(500, "api_error", "Internal server error"), wantStatus: 500},
		{name: "Claude connection reset", claudePrimary: true, fail: reset, wantStatus: 502},
		{name: "Claude silent", claudePrimary: true, fail: silent, extra: "request_timeout_ms: 300", wantStatus: 408},
		{name: "Claude prompt too long", claudePrimary: true, fail: claudeFail(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"), extra: "fallback_error_codes: [context_length_exceeded]", wantStatus: 400},
		{name: "Claude overloaded mid-stream before content", claudePrimary: true, stream: true, fail: func(w http.ResponseWriter, r *http.Request, m string, s <-chan struct{}) {
			writeSSE(w, append(claudeStartEvents(m), sse{"error", errorJSON("overloaded_error", "Overloaded")})...)
		}, wantStatus: 503},
		{name: "Claude slow first token", claudePrimary: true, stream: true, fail: claudeSlowStart, extra: "ttft_timeout_ms: 300", wantStatus: 408},
		{name: "OpenAI rate limited for 90s", fail: openaiFail(429, "rate_limit_exceeded", "Rate limit reached", "Retry-After", "90"), wantStatus: 429},
		{name: "OpenAI internal error", fail: openaiFail(500, "server_error", "The server had an error"), wantStatus: 500},
		{name: "OpenAI unavailable", fail: openaiFail(503, "service_unavailable", "Service unavailable"), wantStatus: 503},
		{name: "OpenAI connection reset", fail: reset, wantStatus: 502},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			if tt.stream && !stream {
				continue
			}
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				claudeAct, gptAct := act(claudeOK), act(openaiOK)
				if stream {
					claudeAct, gptAct = claudeStream, openaiStream
				}
				first, second := claudeRef, gptRef
				if tt.claudePrimary {
					claudeAct = tt.fail
				} else {
					gptAct = tt.fail
					first, second = gptRef, claudeRef
				}
				claudeUp := newUpstream(t, map[string][]act{"claude-sonnet-4-5": {claudeAct}})
				gptUp := newUpstream(t, map[string][]act{"gpt-4o": {gptAct}})
				c := router(t,
					routing.WithProvider("claude", claudeProvider(t, claudeUp)),
					routing.WithProvider("openai", openaiProvider(t, gptUp)),
					routing.WithManifest(manifest(first, tt.extra, second, "")))
				var tr routing.Trace
				ctx := routing.WithTrace(t.Context(), &tr)
				model := second[strings.Index(second, "/")+1:]
				if stream {
					st, err := c.ChatStream(ctx, request())
					if err != nil {
						t.Fatalf("ChatStream: %v", err)
					}
					defer st.Close()
					text, finishes, err := readStream(t, st)
					if diff := cmp.Diff([]any{text, finishes, err}, []any{answerText(model), 1, io.EOF}, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
						t.Errorf("[content, finish reasons, end] (-got +want):\n%s", diff)
					}
				} else {
					resp, err := c.Chat(ctx, request())
					if err != nil {
						t.Fatalf("Chat: %v", err)
					}
					checkServed(t, resp, &tr, second)
				}
				if tr.Resolved != second {
					t.Errorf("resolved %q; want %q", tr.Resolved, second)
				}
				got := tries(&tr)
				if len(got) < 2 || got[0].Target != first || got[len(got)-2].Status != tt.wantStatus || got[len(got)-1] != (try{second, 200, "ok"}) {
					t.Errorf("attempts %+v; want %s failing with %d, then %s serving", got, first, tt.wantStatus, second)
				}
			})
		}
	}
}

// TestRoutingSecretsNeverLeak sends calls that fail on Claude with the
// key echoed back, and checks the error, the Trace printed with %+v and
// the Client's log.
func TestRoutingSecretsNeverLeak(t *testing.T) {
	echo := func(status int, typ string) act {
		return func(w http.ResponseWriter, r *http.Request, m string, s <-chan struct{}) {
			claudeFail(status, typ, "you sent "+r.Header.Get("Authorization"))(w, r, m, s)
		}
	}
	u := newUpstream(t, map[string][]act{
		primaryModel: {echo(401, "authentication_error")},
		backupModel:  {echo(500, "api_error")},
	})
	var logs bytes.Buffer
	c := router(t, routing.WithProvider("claude", claudeProvider(t, u)),
		routing.WithManifest(manifest(primaryRef, "", backupRef, "")),
		routing.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var tr routing.Trace
	_, err := c.Chat(routing.WithTrace(context.Background(), &tr), request())
	if err == nil {
		t.Fatal("Chat succeeded; want every target failing")
	}
	checkNoSecret(t, err, testKey, "SENTINEL")
	for what, text := range map[string]string{
		"trace":      fmt.Sprintf("%+v", tr),
		"trace (#v)": fmt.Sprintf("%#v", tr),
		"log":        logs.String(),
	} {
		if strings.Contains(text, testKey) || strings.Contains(text, "SENTINEL") {
			t.Errorf("the %s shows the key:\n%s", what, text)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", tr), "[REDACTED]") {
		t.Errorf("the trace shows no redaction; want the echoed key replaced")
	}
}

// TestRoutingInvalidRequest sends calls that a Claude target cannot
// serve as written. A request Anthropic cannot express (n above 1, tool
// arguments that are not JSON) is refused by both Claude targets before
// anything is sent: the call fails with routing.ErrInvalidRequest naming
// what is wrong, and neither target is blamed. An override_params key the
// Messages API does not take, on the primary only, is that target's
// refusal alone: the backup serves the call.
func TestRoutingInvalidRequest(t *testing.T) {
	badArgs := request()
	badArgs.Messages = append(badArgs.Messages,
		goopenai.ChatCompletionMessage{Role: assistant, ToolCalls: []goopenai.ToolCall{call("toolu_1", "get_weather", "{city: Paris}")}})
	twoChoices := request()
	twoChoices.N = 2
	tests := []struct {
		name     string
		extra    string // YAML of the primary target
		req      goopenai.ChatCompletionRequest
		wantText string // "" when the backup serves
		wantTry  []try
		backup   []act
	}{
		{
			name: "an unknown override_params key", extra: `override_params: {prompt_version_fqn: "acme:prompt:v3"}`, req: request(),
			wantTry: []try{{primaryRef, 0, "invalid"}, {backupRef, 200, "ok"}},
			backup:  []act{claudeOK, claudeStream},
		},
		{
			name: "n above 1", req: twoChoices, wantText: "n:",
			wantTry: []try{{primaryRef, 0, "invalid"}, {backupRef, 0, "invalid"}},
		},
		{
			name: "tool call arguments that are not JSON", req: badArgs, wantText: "messages[1].tool_calls[0].function.arguments:",
			wantTry: []try{{primaryRef, 0, "invalid"}, {backupRef, 0, "invalid"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t, map[string][]act{primaryModel: {claudeOK}, backupModel: tt.backup})
			c := router(t, routing.WithProvider("claude", claudeProvider(t, u)),
				routing.WithManifest(manifest(primaryRef, tt.extra, backupRef, "")))
			for _, stream := range []bool{false, true} {
				var tr routing.Trace
				ctx := routing.WithTrace(t.Context(), &tr)
				var err error
				if stream {
					var st *routing.Stream
					if st, err = c.ChatStream(ctx, tt.req); st != nil {
						for err == nil {
							_, err = st.Recv()
						}
						if err == io.EOF {
							err = nil
						}
						st.Close()
					}
				} else {
					_, err = c.Chat(ctx, tt.req)
				}
				switch {
				case tt.wantText == "" && err != nil:
					t.Errorf("stream %v: error = %v; want the backup to serve", stream, err)
				case tt.wantText != "" && (!errors.Is(err, routing.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.wantText)):
					t.Errorf("stream %v: error = %v; want routing.ErrInvalidRequest naming %s", stream, err, tt.wantText)
				}
				if diff := cmp.Diff(tries(&tr), tt.wantTry); diff != "" {
					t.Errorf("stream %v: attempts (-got +want):\n%s", stream, diff)
				}
			}
			if n := u.callsTo(primaryModel); n != 0 {
				t.Errorf("the primary received %d requests; want none", n)
			}
			if n, want := u.callsTo(backupModel), len(tt.backup); n != want {
				t.Errorf("the backup received %d requests; want %d", n, want)
			}
		})
	}
}
