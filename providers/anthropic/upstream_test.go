package anthropic_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// This file holds scripted loopback upstreams for the routing tests: one
// speaking Anthropic's wire format, one speaking OpenAI's. Each model
// answers its requests by a script of acts, one per request; the last act
// repeats.

// act answers one request. model is the request's model, stop is closed
// when the test ends (a silent act waits for it or for the client).
type act func(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{})

// upstream is a scripted loopback server.
type upstream struct {
	*httptest.Server
	mu     sync.Mutex
	script map[string][]act
	calls  map[string]int
	stop   chan struct{}
}

// newUpstream starts a server playing script, keyed by model.
func newUpstream(t testing.TB, script map[string][]act) *upstream {
	t.Helper()
	u := &upstream{script: script, calls: map[string]int{}, stop: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(raw, &body)
		u.mu.Lock()
		acts := u.script[body.Model]
		n := u.calls[body.Model]
		u.calls[body.Model]++
		u.mu.Unlock()
		if len(acts) == 0 {
			http.Error(w, "no script for model "+body.Model, http.StatusNotFound)
			return
		}
		acts[min(n, len(acts)-1)](w, r, body.Model, u.stop)
	}))
	t.Cleanup(u.Close)
	// Cleanups run last first: silent acts are let go before Close waits
	// for them.
	t.Cleanup(func() { close(u.stop) })
	return u
}

// callsTo returns how many requests model has received.
func (u *upstream) callsTo(model string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[model]
}

// client returns an HTTP client for u whose idle connections close when
// the test ends.
func (u *upstream) client(t testing.TB) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// answerText is what each model answers in these tests.
func answerText(model string) string { return "The complete answer from " + model + "." }

// Acts common to both wires.

// reset closes the connection before any response.
func reset(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// silent never answers.
func silent(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-stop:
	}
}

// Anthropic's wire.

// claudeOK answers with a message.
func claudeOK(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	text, _ := json.Marshal(answerText(model))
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"id":"msg_ok","type":"message","role":"assistant","model":%q,`+
		`"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,`+
		`"usage":{"input_tokens":12,"output_tokens":9}}`, model, text))
}

// claudeFail answers with an Anthropic error.
func claudeFail(status int, typ, msg string, header ...string) act {
	return func(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Request-Id", "req_routing")
		writeJSON(w, status, errorJSON(typ, msg))
	}
}

// claudeStartEvents are the events of a stream before its content.
func claudeStartEvents(model string) []sse {
	return []sse{
		{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_ok","type":"message","role":"assistant","model":%q,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`, model)},
		evTextStart(0), evPing,
	}
}

// claudeContentEvents are the answer of model in three deltas.
func claudeContentEvents(model string) []sse {
	words := strings.SplitAfter(answerText(model), " ")
	third := len(words) / 3
	return []sse{
		evText(0, strings.Join(words[:third], "")),
		evText(0, strings.Join(words[third:2*third], "")),
		evText(0, strings.Join(words[2*third:], "")),
	}
}

// claudeStream streams model's answer to the end.
func claudeStream(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	evs := append(claudeStartEvents(model), claudeContentEvents(model)...)
	evs = append(evs, evBlockStop(0), evMessageDelta("end_turn", 9), evMessageStop)
	writeSSE(w, evs...)
}

// claudeStreamThen streams the start and the first content delta of the
// answer, then the given events, then acts out end (nil: the body ends).
func claudeStreamThen(more []sse, end act) act {
	return func(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
		evs := append(claudeStartEvents(model), claudeContentEvents(model)[0])
		writeSSE(w, append(evs, more...)...)
		if end != nil {
			end(w, r, model, stop)
		}
	}
}

// claudeSlowStart sends the opening events, then nothing.
func claudeSlowStart(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	writeSSE(w, claudeStartEvents(model)...)
	silent(w, r, model, stop)
}

// OpenAI's wire.

// openaiOK answers with a chat completion.
func openaiOK(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	text, _ := json.Marshal(answerText(model))
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"id":"chatcmpl-ok","object":"chat.completion","created":1,"model":%q,`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}`, model, text))
}

// openaiStream streams model's answer to data: [DONE].
func openaiStream(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	chunk := func(delta, finish string) {
		d, _ := json.Marshal(delta)
		f := "null"
		if finish != "" {
			f = `"` + finish + `"`
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-ok\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n", model, d, f)
		w.(http.Flusher).Flush()
	}
	for _, word := range strings.SplitAfter(answerText(model), " ") {
		chunk(word, "")
	}
	chunk("", "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// openaiFail answers with an OpenAI error.
func openaiFail(status int, code, msg string, header ...string) act {
	return func(w http.ResponseWriter, r *http.Request, model string, stop <-chan struct{}) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		m, _ := json.Marshal(msg)
		writeJSON(w, status, fmt.Sprintf(`{"error":{"message":%s,"type":"requests","param":null,"code":%q}}`, m, code))
	}
}
