package providertest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers/providertest"
)

// logWire answers with a line per method it is asked to write, so a
// test can read back what Serve did.
type logWire struct{}

func (logWire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	fmt.Fprintf(w, "Answer %s\n", a.Text)
}

func (logWire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
	w.WriteHeader(http.StatusTeapot)
	fmt.Fprintf(w, "Fail %v\n", f)
}

func (logWire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	got, ok := providertest.AnswerOf(w)
	fmt.Fprintf(w, "StreamStart %s %t\n", got.ID, ok && got == a)
	w.(http.Flusher).Flush()
}

func (logWire) StreamText(w http.ResponseWriter, text string) {
	fmt.Fprintf(w, "StreamText %q\n", text)
	_ = http.NewResponseController(w).Flush()
}

func (logWire) StreamEnd(w http.ResponseWriter, a providertest.Answer) {
	fmt.Fprintf(w, "StreamEnd %d\n", a.CompletionTokens)
}

func (logWire) StreamError(w http.ResponseWriter, f providertest.Fault) {
	a, _ := providertest.AnswerOf(w)
	fmt.Fprintf(w, "StreamError %v %s\n", f, a.ID)
}

func (logWire) StreamMalformed(w http.ResponseWriter) {
	fmt.Fprintln(w, "StreamMalformed")
}

func (logWire) Embeddings(w http.ResponseWriter, r *http.Request, vectors [][]float32, promptTokens int) {
	fmt.Fprintf(w, "Embeddings %v %d\n", vectors, promptTokens)
}

// post sends one request with a body to srv and returns the status, the
// Retry-After header and the body.
func post(ctx context.Context, srv *providertest.Server) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"model":"m"}`))
	if err != nil {
		return 0, "", "", err
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body), err
}

func TestServe(t *testing.T) {
	a := providertest.Answer{ID: "id-1", Model: "m-1", Text: "abcdef", PromptTokens: 3, CompletionTokens: 4}
	type result struct {
		Status     int
		RetryAfter string
		Body       string
	}
	tests := []struct {
		name string
		b    providertest.Behaviour
		want result
	}{
		{"answer", providertest.Behaviour{Answer: a}, result{200, "", "Answer abcdef\n"}},
		{"fault", providertest.Behaviour{Fault: providertest.FaultRateLimited, RetryAfter: "7", Answer: a},
			result{418, "7", "Fail rate-limited\n"}},
		{"fault before a stream", providertest.Behaviour{Stream: true, Fault: providertest.FaultOverloaded, Answer: a},
			result{418, "", "Fail overloaded\n"}},
		{"embeddings", providertest.Behaviour{Embed: true, Answer: a, Vectors: [][]float32{{1, 2}, {3}}},
			result{200, "", "Embeddings [[1 2] [3]] 3\n"}},
		{"complete stream", providertest.Behaviour{Stream: true, Answer: a, Chunks: 3},
			result{200, "", "StreamStart id-1 true\nStreamText \"ab\"\nStreamText \"cd\"\nStreamText \"ef\"\nStreamEnd 4\n"}},
		{"no chunks is one", providertest.Behaviour{Stream: true, Answer: a},
			result{200, "", "StreamStart id-1 true\nStreamText \"abcdef\"\nStreamEnd 4\n"}},
		{"cut stream", providertest.Behaviour{Stream: true, Answer: a, Chunks: 2, Ending: providertest.EndCut},
			result{200, "", "StreamStart id-1 true\nStreamText \"abc\"\nStreamText \"def\"\n"}},
		{"malformed stream", providertest.Behaviour{Stream: true, Answer: a, Chunks: 1, Ending: providertest.EndMalformed},
			result{200, "", "StreamStart id-1 true\nStreamText \"abcdef\"\nStreamMalformed\n"}},
		{"error event", providertest.Behaviour{Stream: true, Answer: a, Chunks: 1, Ending: providertest.EndError, Fault: providertest.FaultServerError},
			result{200, "", "StreamStart id-1 true\nStreamText \"abcdef\"\nStreamError server-error id-1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.Serve(t, logWire{}, tt.b)
			status, retryAfter, body, err := post(t.Context(), srv)
			if err != nil {
				t.Fatalf("request error = %v", err)
			}
			if diff := cmp.Diff(result{status, retryAfter, body}, tt.want); diff != "" {
				t.Errorf("response mismatch (-got +want):\n%s", diff)
			}
			if got, want := srv.Requests(), 1; got != want {
				t.Errorf("Requests() = %d; want %d", got, want)
			}
			if got := srv.ClientsGone(); got != 0 {
				t.Errorf("ClientsGone() = %d after an answered request; want 0", got)
			}
		})
	}
}

// TestServeHolds checks that a silent or stalled server answers nothing
// more until its client goes away, and counts the client that did.
func TestServeHolds(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    providertest.Behaviour
	}{
		{"silent", providertest.Behaviour{Silent: true}},
		{"silent stream", providertest.Behaviour{Stream: true, Silent: true}},
		{"stalled stream", providertest.Behaviour{Stream: true, Answer: providertest.Answer{Text: "ab"}, Ending: providertest.EndStall}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.Serve(t, logWire{}, tt.b)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			_, _, body, err := post(ctx, srv)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("request error = %v (body %q); want the client's deadline to end it", err, body)
			}
			deadline := time.Now().Add(5 * time.Second)
			for srv.ClientsGone() != 1 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got, want := srv.ClientsGone(), 1; got != want {
				t.Errorf("ClientsGone() = %d after the client went away; want %d", got, want)
			}
		})
	}
}

// TestServeCleanupLetsGo checks that a request a client never gives up
// does not keep the test from ending: the server drops it when the test
// ends.
func TestServeCleanupLetsGo(t *testing.T) {
	errc := make(chan error, 1)
	t.Run("left open", func(t *testing.T) {
		srv := providertest.Serve(t, logWire{}, providertest.Behaviour{Silent: true})
		go func() {
			_, _, _, err := post(context.Background(), srv)
			errc <- err
		}()
		for srv.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	select {
	case <-errc: // answered or dropped; either way the server let go
	case <-time.After(5 * time.Second):
		t.Fatal("a request left open still runs 5s after its test ended; want the server to drop it")
	}
}

func TestChunks(t *testing.T) {
	tests := []struct {
		text   string
		chunks int
		want   []string
	}{
		{"abcdef", 0, []string{"abcdef"}},
		{"abcdef", 1, []string{"abcdef"}},
		{"abcdef", 4, []string{"a", "bc", "d", "ef"}},
		{"abc", 5, []string{"a", "b", "c"}},
		{"", 3, []string{""}},
		{"héllo wörld", 3, []string{"hél", "lo w", "örld"}},
		{"日本語", 2, []string{"日", "本語"}},
	}
	for _, tt := range tests {
		got := providertest.Chunks(providertest.Behaviour{Answer: providertest.Answer{Text: tt.text}, Chunks: tt.chunks})
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("Chunks(%q, %d) mismatch (-got +want):\n%s", tt.text, tt.chunks, diff)
		}
		if joined := strings.Join(got, ""); joined != tt.text {
			t.Errorf("Chunks(%q, %d) joined = %q; want the text", tt.text, tt.chunks, joined)
		}
	}
}

func TestAnswerOfOtherWriter(t *testing.T) {
	if _, ok := providertest.AnswerOf(nil); ok {
		t.Error("AnswerOf(nil) reported an answer; want none")
	}
}
