package soak_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// op is the kind of call a request is.
type op uint8

const (
	opChat op = iota
	opStream
	opEmbed
	numOps
)

var opNames = [numOps]string{"chat", "stream", "embed"}

// fault is what a server does with one attempt.
type fault uint8

const (
	faultOK         fault = iota // the whole answer
	faultOKNoDone                // stream: the whole answer, ended by a finish reason and no [DONE]
	fault429                     // 429 with Retry-After (seconds, far off, or retry-after-ms) or none
	fault500                     // 500 with an OpenAI error body
	fault503                     // 503 with an OpenAI error body
	faultReset                   // the connection is reset before any header
	faultSilent                  // no answer (stream: perhaps headers only) until the client goes away
	faultSlow                    // the whole answer, its first token late: often right at the timeout
	faultCutBody                 // unary: headers and part of the body, then the connection drops
	faultCut                     // stream: the connection drops after some chunks
	faultEndEarly                // stream: the body ends cleanly after some chunks, no finish reason
	faultStall                   // stream: no chunk after some, until the client goes away
	faultMalformed               // stream: an event that is not JSON after some chunks
	faultErrorEvent              // stream: an error event after some chunks
	faultLieShort                // a truncated answer presented as complete (self-test only)
	faultLieForeign              // another call's answer (self-test only)
	numFaults
)

var faultNames = [numFaults]string{
	"ok", "ok-no-done", "429", "500", "503", "reset", "silent", "slow", "cut-body",
	"cut", "end-early", "stall", "malformed", "error-event", "lie-short", "lie-foreign",
}

// mix weighs the faults a server picks from for one kind of call.
type mix [numFaults]int

func (m *mix) pick() fault {
	total := 0
	for _, w := range m {
		total += w
	}
	n := rand.IntN(total)
	for f, w := range m {
		if n < w {
			return fault(f)
		}
		n -= w
	}
	panic("unreachable")
}

// defaultMixes are the faults of the soak: about half of all attempts go
// wrong somehow.
var defaultMixes = [numOps]mix{
	opChat: {
		faultOK: 52, fault429: 8, fault500: 5, fault503: 5, faultReset: 4,
		faultSilent: 3, faultSlow: 15, faultCutBody: 4,
	},
	opStream: {
		faultOK: 36, faultOKNoDone: 8, fault429: 5, fault500: 3, fault503: 3,
		faultReset: 3, faultSilent: 3, faultSlow: 12, faultCut: 6, faultEndEarly: 4,
		faultStall: 4, faultMalformed: 4, faultErrorEvent: 5,
	},
	opEmbed: {
		faultOK: 60, fault429: 8, fault500: 5, fault503: 5, faultReset: 4,
		faultSilent: 3, faultSlow: 10, faultCutBody: 5,
	},
}

// callHeader carries the soak's call number upstream, so a server can
// name the call in its answers and its log; scriptHeader, when present,
// names the fault for each attempt of the call in turn, the last one
// repeating ("cut,silent").
const (
	callHeader   = "X-Soak-Call"
	scriptHeader = "X-Soak-Script"
)

// registry keeps, for each call in flight, what the servers did with its
// attempts, for the report of a violation. A call's entry is dropped when
// it ends, so the registry stays as small as the calls in flight.
type registry struct {
	mu    sync.Mutex
	calls map[int64][]string
}

func newRegistry() *registry { return &registry{calls: map[int64][]string{}} }

func (r *registry) open(call int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[call] = nil
}

func (r *registry) note(call int64, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.calls[call]; ok {
		r.calls[call] = append(l, what)
	}
}

// attempts returns how many attempts of call the servers have seen.
func (r *registry) attempts(call int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls[call])
}

// log returns a copy of what the servers did for call.
func (r *registry) log(call int64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls[call]...)
}

func (r *registry) close(call int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.calls, call)
}

// server is one loopback upstream speaking the OpenAI wire format, acting
// out a fault drawn for each request.
type server struct {
	name  string
	key   string // the credential it expects, echoed into error messages
	mixes [numOps]mix
	reg   *registry
	tune  *atomic.Pointer[tuning] // the timeouts in force, to aim late answers at them
	quit  chan struct{}           // closed to release every waiting handler
	seq   atomic.Int64
	// served counts the faults acted out, by call kind.
	served [numOps][numFaults]atomic.Int64
	// badAuth counts requests that came without the account's key.
	badAuth atomic.Int64
	srv     *httptest.Server
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Reading the whole body lets the server notice a client that goes
	// away (r.Context() ends only then).
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		s.badAuth.Add(1)
	}
	call, _ := strconv.ParseInt(r.Header.Get(callHeader), 10, 64)
	seq := s.seq.Add(1)
	var req struct {
		Stream bool  `json:"stream"`
		Input  []any `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.apiError(w, http.StatusBadRequest, "invalid_request_error", "bad_json", nil)
		return
	}
	var o op
	switch {
	case r.URL.Path == "/v1/embeddings":
		o = opEmbed
	case r.URL.Path == "/v1/chat/completions" && req.Stream:
		o = opStream
	case r.URL.Path == "/v1/chat/completions":
		o = opChat
	default:
		s.apiError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", nil)
		return
	}
	var f fault
	script := r.Header.Get(scriptHeader)
	if script != "" {
		// A call's attempts come one at a time, so the count is this
		// attempt's place in the script.
		steps := strings.Split(script, ",")
		f = faultNamed(steps[min(s.reg.attempts(call), len(steps)-1)])
	} else {
		f = s.mixes[o].pick()
	}
	s.served[o][f].Add(1)
	s.reg.note(call, s.name+"#"+strconv.FormatInt(seq, 10)+" "+opNames[o]+" "+faultNames[f])
	id := answerID(call, s.name, seq)
	if f == faultLieForeign {
		id = answerID(call+1, s.name, seq)
	}

	switch f {
	case fault429:
		h := http.Header{}
		switch rand.IntN(4) {
		case 0:
			h.Set("Retry-After", "1")
		case 1:
			h.Set("Retry-After", "120") // past any deadline: fall back at once
		case 2:
			h.Set("Retry-After-Ms", "150")
			h.Set("Retry-After", "1")
		}
		s.apiError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", h)
		return
	case fault500:
		s.apiError(w, http.StatusInternalServerError, "server_error", "", nil)
		return
	case fault503:
		s.apiError(w, http.StatusServiceUnavailable, "server_error", "overloaded", nil)
		return
	case faultReset:
		reset(w)
		return
	case faultSilent:
		if o == opStream && rand.IntN(2) == 0 {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		s.wait(r, -1)
		return
	}

	n := 1 + rand.IntN(40)
	text := answerText(id, n)
	if f == faultLieShort {
		text = text[:len(text)/2]
	}
	switch o {
	case opChat:
		s.chat(w, r, f, id, text, n)
	case opEmbed:
		s.embed(w, r, f, id, len(req.Input))
	case opStream:
		s.stream(w, r, f, id, text, n, script != "")
	}
}

// faultNamed returns the fault a script names.
func faultNamed(name string) fault {
	for f, n := range faultNames {
		if n == name {
			return fault(f)
		}
	}
	panic("soak: unknown fault " + name)
}

// apiError answers with an OpenAI error body whose message echoes the
// credential, as some servers do: it must never reach the caller.
func (s *server) apiError(w http.ResponseWriter, status int, typ, code string, h http.Header) {
	for k, v := range h {
		w.Header()[k] = v
	}
	var c any
	if code != "" {
		c = code
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": "soak fault for key " + s.key, "type": typ, "param": nil, "code": c,
	}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// reset drops the connection with a TCP reset before any header.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// wait blocks for d (forever if d < 0) or until the client goes away or
// the server shuts down; it reports whether the full time passed.
func (s *server) wait(r *http.Request, d time.Duration) bool {
	var after <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		after = t.C
	}
	select {
	case <-after:
		return true
	case <-r.Context().Done():
	case <-s.quit:
	}
	return false
}

// lateness is how long a slow answer keeps its first token back: half the
// time just around the first-token budget in force, so the answer and the
// timer race, else anywhere up to 1.2 s.
func (s *server) lateness(o op) time.Duration {
	tu := s.tune.Load()
	edge := tu.requestMS
	if o == opStream && tu.ttftMS > 0 && (edge == 0 || tu.ttftMS < edge) {
		edge = tu.ttftMS
	}
	if edge > 0 && rand.IntN(2) == 0 {
		return time.Duration(edge)*time.Millisecond + time.Duration(rand.IntN(11)-5)*time.Millisecond
	}
	return time.Duration(rand.IntN(1200)) * time.Millisecond
}

func (s *server) chat(w http.ResponseWriter, r *http.Request, f fault, id, text string, n int) {
	if f == faultSlow && !s.wait(r, s.lateness(opChat)) {
		return
	}
	body, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-" + id, "object": "chat.completion", "created": 1700000000, "model": "m",
		"choices": []any{map[string]any{
			"index": 0, "message": map[string]any{"role": "assistant", "content": text, "refusal": nil},
			"logprobs": nil, "finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": 5, "completion_tokens": n, "total_tokens": n + 5},
	})
	writeJSON(w, f, body)
}

func (s *server) embed(w http.ResponseWriter, r *http.Request, f fault, id string, inputs int) {
	if f == faultSlow && !s.wait(r, s.lateness(opEmbed)) {
		return
	}
	data := make([]any, inputs)
	for i := range data {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": embedding(id, i)}
	}
	if f == faultLieShort && inputs > 0 {
		data = data[:inputs-1]
	}
	body, _ := json.Marshal(map[string]any{
		"object": "list", "data": data, "model": id,
		"usage": map[string]any{"prompt_tokens": inputs, "total_tokens": inputs},
	})
	writeJSON(w, f, body)
}

// writeJSON sends a success body, or, for faultCutBody, part of it before
// the connection drops.
func writeJSON(w http.ResponseWriter, f fault, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f == faultCutBody {
		_, _ = w.Write(body[:rand.IntN(len(body))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	_, _ = w.Write(body)
}

// chunk renders one chat.completion.chunk event.
func chunk(id string, delta map[string]any, finish string) []byte {
	var fr any
	if finish != "" {
		fr = finish
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-" + id, "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": fr}},
	})
	return append(append([]byte("data: "), b...), '\n', '\n')
}

// stream answers a streaming chat. A scripted fault in the middle of the
// answer always strikes after some content, once the attempt committed.
func (s *server) stream(w http.ResponseWriter, r *http.Request, f fault, id, text string, n int, scripted bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	send := func(b []byte) {
		_, _ = w.Write(b)
		fl.Flush()
	}
	send(chunk(id, map[string]any{"role": "assistant", "content": ""}, ""))
	if f == faultSlow && !s.wait(r, s.lateness(opStream)) {
		return
	}
	var pieces []string
	for rest := text; rest != ""; {
		k := min(len(rest), 1+rand.IntN(16))
		pieces = append(pieces, rest[:k])
		rest = rest[k:]
	}
	// A fault in the middle strikes before piece at: 0 is before any
	// content, while the attempt may still be retried.
	at := rand.IntN(len(pieces))
	if scripted {
		if len(pieces) == 1 {
			pieces = []string{text[:1], text[1:]}
		}
		at = 1 + rand.IntN(len(pieces)-1)
	}
	for i, p := range pieces {
		if i == at {
			switch f {
			case faultCut:
				panic(http.ErrAbortHandler)
			case faultEndEarly:
				return
			case faultStall:
				s.wait(r, -1)
				return
			case faultMalformed:
				send([]byte(`data: {"id":"chatcmpl-` + id + `","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + "\n\n"))
				return
			case faultErrorEvent:
				codes := []string{"overloaded", "server_error", "rate_limit_exceeded", "soak_model_error"}
				send([]byte(`data: {"error":{"message":"soak fault for key ` + s.key + `","type":"server_error","code":"` + codes[rand.IntN(len(codes))] + `"}}` + "\n\n"))
				return
			}
		}
		finish := ""
		if i == len(pieces)-1 && f == faultOKNoDone {
			finish = "stop"
		}
		send(chunk(id, map[string]any{"content": p}, finish))
		if rand.IntN(4) == 0 && !s.wait(r, time.Duration(rand.IntN(3000))*time.Microsecond) {
			return
		}
	}
	if f == faultOKNoDone {
		return
	}
	send(chunk(id, map[string]any{}, "stop"))
	if rand.IntN(2) == 0 {
		send([]byte(`data: {"id":"chatcmpl-` + id + `","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":` + strconv.Itoa(n) + `,"total_tokens":` + strconv.Itoa(n+5) + "}}\n\n"))
	}
	send([]byte("data: [DONE]\n\n"))
}

// describeServed says what the servers acted out, for the test log.
func describeServed(servers []*server) string {
	var b strings.Builder
	for o := range numOps {
		fmt.Fprintf(&b, "\n  %s:", opNames[o])
		for f := range numFaults {
			total := int64(0)
			for _, s := range servers {
				total += s.served[o][f].Load()
			}
			if total > 0 {
				fmt.Fprintf(&b, " %s=%d", faultNames[f], total)
			}
		}
	}
	return b.String()
}
