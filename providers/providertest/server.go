package providertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"unicode/utf8"
)

// Server is the loopback server [Serve] starts: an httptest.Server that
// acts out one [Behaviour] for every request, and records what it saw so
// that [Run] can check that a call sent exactly one request and that the
// client went away when the call ended early.
//
// Its methods are safe for concurrent use. Make one with Serve: the zero
// Server is not usable.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	requests int
	gone     int
	changed  chan struct{} // closed and replaced whenever gone grows
	stopped  chan struct{} // closed when the test ends
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ClientsGone returns how many requests the server was holding open
// (a [Behaviour] that is Silent, or a stream that ends with [EndStall])
// when their client went away: how many calls let go of their
// connection rather than leaving it to the server.
func (s *Server) ClientsGone() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone
}

// goneChanged returns the count of clients gone and a channel closed when
// it next grows.
func (s *Server) goneChanged() (int, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone, s.changed
}

// Serve starts a loopback server that answers every request by acting out
// b in w's wire format, in this order:
//
//   - b.Fault, unless b.Ending is [EndError]: w.Fail with b.RetryAfter;
//   - b.Silent: nothing at all, until the client goes away;
//   - b.Embed: w's Embeddings (w must be an [EmbedWire]) of b.Vectors;
//   - b.Stream: StreamStart, then b.Answer.Text in b.Chunks StreamText
//     events (at least one; no more than the text has characters), then
//     by b.Ending: StreamEnd; nothing more, ending the response as a
//     server that stops without an end marker does; nothing more until the
//     client goes away; StreamMalformed; or StreamError(b.Fault);
//   - otherwise w.Answer of b.Answer.
//
// The server reads each request's body whole before answering. It keeps
// no connection alive between requests, so that once a call is over no
// connection of its client stays open. The server is closed when t's test
// ends, after dropping any connection a client left open.
func Serve(t testing.TB, w Wire, b Behaviour) *Server {
	t.Helper()
	if w == nil {
		t.Fatal("providertest.Serve: nil Wire")
	}
	if b.Embed {
		if _, ok := w.(EmbedWire); !ok {
			t.Fatalf("providertest.Serve: the behaviour asks for embeddings, but the Wire %T is not an EmbedWire", w)
		}
	}
	s := &Server{changed: make(chan struct{}), stopped: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.serve(w, b, rw, r)
	}))
	s.Config.SetKeepAlivesEnabled(false)
	s.Start()
	register(t, s)
	t.Cleanup(func() {
		close(s.stopped)
		// Close waits for every handler; a handler still holding a
		// request for a client that never left must be let go first.
		s.CloseClientConnections()
		s.Close()
	})
	return s
}

func (s *Server) serve(w Wire, b Behaviour, rw http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	// Read the body whole: only then does net/http watch the connection
	// and cancel r.Context() when the client goes away.
	_, _ = io.Copy(io.Discard, r.Body)

	switch {
	case b.Fault != 0 && b.Ending != EndError:
		w.Fail(rw, r, b.Fault, b.RetryAfter)
	case b.Silent:
		s.hold(r)
	case b.Embed:
		w.(EmbedWire).Embeddings(rw, r, b.Vectors, b.Answer.PromptTokens)
	case b.Stream:
		rw := &streamWriter{ResponseWriter: rw, answer: b.Answer}
		w.StreamStart(rw, r, b.Answer)
		for _, text := range Chunks(b) {
			w.StreamText(rw, text)
		}
		switch b.Ending {
		case EndComplete:
			w.StreamEnd(rw, b.Answer)
		case EndCut:
			// Returning ends the body with no end marker: to a client,
			// a server that stopped after its last event.
		case EndStall:
			s.hold(r)
		case EndMalformed:
			w.StreamMalformed(rw)
		case EndError:
			w.StreamError(rw, b.Fault)
		}
	default:
		w.Answer(rw, r, b.Answer)
	}
}

// streamWriter is the ResponseWriter a Wire's stream methods get: it
// carries the stream's Answer for [AnswerOf].
type streamWriter struct {
	http.ResponseWriter
	answer Answer
}

// Flush flushes the underlying writer, so that a Wire may use
// http.Flusher as well as http.ResponseController.
func (w *streamWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AnswerOf returns the Answer of the stream [Serve] is writing to w, for
// the Wire methods that are not handed it (StreamText, StreamError,
// StreamMalformed) when the wire format repeats the answer's id or model
// in every event, as OpenAI's does. It reports false for a writer that
// is not one of Serve's streams.
func AnswerOf(w http.ResponseWriter) (Answer, bool) {
	sw, ok := w.(*streamWriter)
	if !ok {
		return Answer{}, false
	}
	return sw.answer, true
}

// hold keeps the request open until its client goes away (or the test
// ends), and counts a client that went away.
func (s *Server) hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.stopped:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone++
	close(s.changed)
	s.changed = make(chan struct{})
}

// Chunks returns the content of each StreamText event a stream of b
// sends: b.Answer.Text cut into b.Chunks pieces of as even a length in
// characters as it goes, at least one and no more than the text has
// characters. A harness for a provider with no wire (a fake) scripts its
// stream with them.
func Chunks(b Behaviour) []string {
	return split(b.Answer.Text, b.Chunks)
}

// split cuts text into n pieces of as even a length in characters as it
// goes: at least one piece, and no more pieces than characters (unless
// text is empty, which is one empty piece).
func split(text string, n int) []string {
	runes := utf8.RuneCountInString(text)
	n = max(min(n, runes), 1)
	out := make([]string, 0, n)
	for i := range n {
		// Piece i holds the characters [i*runes/n, (i+1)*runes/n).
		size := (i+1)*runes/n - i*runes/n
		end := 0
		for range size {
			_, w := utf8.DecodeRuneInString(text[end:])
			end += w
		}
		if i == n-1 {
			end = len(text)
		}
		out = append(out, text[:end])
		text = text[end:]
	}
	return out
}

// servers finds the Servers a harness started for a test, so that [Run]
// can look at the server behind the provider its harness made. Entries
// are removed when their test ends.
var servers = struct {
	sync.Mutex
	m map[testing.TB][]*Server
}{m: make(map[testing.TB][]*Server)}

func register(t testing.TB, s *Server) {
	servers.Lock()
	servers.m[t] = append(servers.m[t], s)
	servers.Unlock()
	t.Cleanup(func() {
		servers.Lock()
		delete(servers.m, t)
		servers.Unlock()
	})
}

// serversOf returns the Servers started with t.
func serversOf(t testing.TB) []*Server {
	servers.Lock()
	defer servers.Unlock()
	return append([]*Server(nil), servers.m[t]...)
}
