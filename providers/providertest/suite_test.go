package providertest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/providers/providertest"
)

// key is the credential the tests' harnesses plant.
const key = "sk-providertest-SENTINEL-0123456789abcdef"

// fakeHarness runs the suite against the fake, each behaviour scripted as
// the one step its call takes.
func fakeHarness() providertest.Harness {
	return providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			f := fake.New()
			f.Script(fake.AnyModel, step(t, b))
			return f
		},
		Key:   key,
		Model: "gpt-4o",
		Omits: providertest.Omits{ID: true, Model: true},
	}
}

var faultSteps = map[providertest.Fault]fake.Step{
	providertest.FaultRateLimited:   fake.Fail(http.StatusTooManyRequests).WithCode("rate_limit_exceeded"),
	providertest.FaultServerError:   fake.Fail(http.StatusInternalServerError),
	providertest.FaultBadRequest:    fake.Fail(http.StatusBadRequest).WithCode("invalid_value"),
	providertest.FaultContextLength: fake.Fail(http.StatusBadRequest).WithCode("context_length_exceeded"),
	providertest.FaultOverloaded:    fake.Fail(http.StatusServiceUnavailable).WithCode("overloaded"),
}

func step(t *testing.T, b providertest.Behaviour) fake.Step {
	t.Helper()
	a := b.Answer
	switch {
	case b.Fault != 0 && b.Ending != providertest.EndError:
		s := faultSteps[b.Fault]
		if d, ok := providers.ParseRetryAfter(b.RetryAfter, time.Now()); ok {
			s = s.WithRetryAfter(d)
		}
		return s
	case b.Silent:
		return fake.Hang()
	case b.Embed:
		return fake.Reply(a.Text).WithVectors(b.Vectors...).WithUsage(a.PromptTokens, 0)
	case b.Stream:
		chunks := providertest.Chunks(b)
		s := fake.Stream(chunks...).WithUsage(a.PromptTokens, a.CompletionTokens)
		switch b.Ending {
		case providertest.EndCut:
			s = s.CutAfter(len(chunks))
		case providertest.EndStall:
			s = s.StallAfter(len(chunks))
		case providertest.EndMalformed:
			s = s.MalformedAfter(len(chunks))
		case providertest.EndError:
			s = s.ErrorAfter(len(chunks), faultSteps[b.Fault])
		}
		return s
	}
	return fake.Reply(a.Text).WithUsage(a.PromptTokens, a.CompletionTokens)
}

func TestRunPassesAWorkingProvider(t *testing.T) {
	providertest.Run(t, fakeHarness())
}

// A mutant is the fake with one thing broken: each hook, when set,
// changes what one method returns.
type mutant struct {
	*fake.Provider
	chat   func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error)
	stream func(st providers.Stream, err error) (providers.Stream, error)
	recv   func(n int, chunk openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error)
	close  func(st providers.Stream) error
	embed  func(resp openai.EmbeddingResponse, err error) (openai.EmbeddingResponse, error)
	info   *providers.Info
}

func (m *mutant) Describe() providers.Info {
	if m.info != nil {
		return *m.info
	}
	return m.Provider.Describe()
}

func (m *mutant) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	resp, err := m.Provider.Chat(ctx, req)
	if m.chat != nil {
		return m.chat(ctx, resp, err)
	}
	return resp, err
}

func (m *mutant) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	st, err := m.Provider.ChatStream(ctx, req)
	if err == nil {
		st = &mutantStream{Stream: st, m: m}
	}
	if m.stream != nil {
		return m.stream(st, err)
	}
	return st, err
}

func (m *mutant) Embed(ctx context.Context, req providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	resp, err := m.Provider.Embed(ctx, req)
	if m.embed != nil {
		return m.embed(resp, err)
	}
	return resp, err
}

type mutantStream struct {
	providers.Stream
	m *mutant
	n int // Recv calls so far
}

func (s *mutantStream) Recv() (openai.ChatCompletionStreamResponse, error) {
	chunk, err := s.Stream.Recv()
	s.n++
	if s.m.recv != nil {
		return s.m.recv(s.n, chunk, err)
	}
	return chunk, err
}

func (s *mutantStream) Close() error {
	if s.m.close != nil {
		return s.m.close(s.Stream)
	}
	return s.Stream.Close()
}

// withError changes a *providers.Error, on a copy.
func withError(err error, change func(*providers.Error)) error {
	pe, ok := providers.AsError(err)
	if !ok {
		return err
	}
	c := *pe
	change(&c)
	return &c
}

func chatErr(change func(*providers.Error)) func(context.Context, openai.ChatCompletionResponse, error) (openai.ChatCompletionResponse, error) {
	return func(_ context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
		return resp, withError(err, change)
	}
}

func chatResp(change func(*openai.ChatCompletionResponse)) func(context.Context, openai.ChatCompletionResponse, error) (openai.ChatCompletionResponse, error) {
	return func(_ context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
		if err == nil {
			change(&resp)
		}
		return resp, err
	}
}

func recvErr(change func(error) error) func(int, openai.ChatCompletionStreamResponse, error) (openai.ChatCompletionStreamResponse, error) {
	return func(_ int, chunk openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
		if err != nil {
			err = change(err)
		}
		return chunk, err
	}
}

func recvChunk(change func(n int, c *openai.ChatCompletionStreamResponse)) func(int, openai.ChatCompletionStreamResponse, error) (openai.ChatCompletionStreamResponse, error) {
	return func(n int, chunk openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
		if err == nil {
			change(n, &chunk)
		}
		return chunk, err
	}
}

// holder is an error cause that keeps a credential in a field, seen only
// when the error is printed with %#v.
type holder struct{ secret string }

func (holder) Error() string { return "upstream failed" }

// dummyWire answers every request the same; the tests that need a
// server only count what reaches it.
type dummyWire struct{}

func (dummyWire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	_, _ = io.WriteString(w, "answer")
}

func (dummyWire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	w.WriteHeader(http.StatusInternalServerError)
}
func (dummyWire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {}
func (dummyWire) StreamText(w http.ResponseWriter, text string)                             {}
func (dummyWire) StreamEnd(w http.ResponseWriter, a providertest.Answer)                    {}
func (dummyWire) StreamError(w http.ResponseWriter, f providertest.Fault)                   {}
func (dummyWire) StreamMalformed(w http.ResponseWriter)                                     {}

// get sends one request to url and reads the answer, with ctx.
func get(ctx context.Context, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// mutants are the broken providers the suite must catch: run is the
// subtest to run (below TestBroken), want a phrase its failure must say.
var mutants = []struct {
	name, run, want string
	m               func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider
}{
	{"no provider name", "Describe", "Describe().Name", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, info: &providers.Info{Name: "Fake Provider"}}
	}},
	{"no Describe", "Describe", "is not a providers.Describer", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return struct{ providers.Provider }{f}
	}},
	{"another server", "Describe", "address and port mismatch", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		providertest.Serve(t, dummyWire{}, b)
		return &mutant{Provider: f, info: &providers.Info{Name: "fake", Address: "127.0.0.1", Port: 1}}
	}},
	{"not safe for concurrent use", "Chat/Concurrent", "concurrent Chat calls", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		var mu sync.Mutex
		inFlight, arrived := 0, make(chan struct{})
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			mu.Lock()
			inFlight++
			first := inFlight == 1
			if inFlight == 2 {
				close(arrived)
			}
			mu.Unlock()
			select { // wait for a second call to overlap this one
			case <-arrived:
			case <-time.After(time.Second):
			}
			if !first {
				return openai.ChatCompletionResponse{}, errors.New("busy with another call")
			}
			return resp, err
		}}
	}},
	{"no request sent", "Chat/Answer", "received 0 requests; want 1", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		providertest.Serve(t, dummyWire{}, b)
		return f
	}},
	{"answer text", "Chat/Answer", "Chat answer mismatch", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Choices[0].Message.Content += "!" })}
	}},
	{"answer usage", "Chat/Answer", "CompletionTokens", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Usage.CompletionTokens = 0 })}
	}},
	{"answer total tokens", "Chat/Answer", "TotalTokens", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Usage.TotalTokens = 0 })}
	}},
	{"answer finish reason", "Chat/Answer", "Finish", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Choices[0].FinishReason = "" })}
	}},
	{"answer role", "Chat/Answer", "Role", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Choices[0].Message.Role = "" })}
	}},
	{"answer model", "Chat/Answer", "Model", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Model = "gpt-4o-mini" })}
	}},
	{"answer id", "Chat/Answer", "ID", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.ID = "" })}
	}},
	{"answer choices", "Chat/Answer", "Choices", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatResp(func(r *openai.ChatCompletionResponse) { r.Choices = append(r.Choices, r.Choices[0]) })}
	}},
	{"retry-after seconds lost", "Chat/RateLimited/Seconds", "RetryAfter = 0s; want 7s", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.RetryAfter = 0 })}
	}},
	{"retry-after date wrong", "Chat/RateLimited/Date", "want 25s to 31s", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.RetryAfter += 10 * time.Second })}
	}},
	{"rate limit status", "Chat/RateLimited/Seconds", "status = 500; want 429", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Status = 500 })}
	}},
	{"server error status", "Chat/ServerError", "status = 502; want 500", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Status = 502 })}
	}},
	{"bad request code", "Chat/BadRequest", "code is empty", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Code = "" })}
	}},
	{"bad request status", "Chat/BadRequest", "status = 422; want 400", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Status = 422 })}
	}},
	{"context length code", "Chat/ContextLength", `code = "invalid_request_error"; want "context_length_exceeded"`, func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Code = "invalid_request_error" })}
	}},
	{"overload status", "Chat/Overloaded", "status = 529; want 503", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Status = 529 })}
	}},
	{"error is nil", "Chat/ServerError", "error = nil", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(context.Context, openai.ChatCompletionResponse, error) (openai.ChatCompletionResponse, error) {
			return openai.ChatCompletionResponse{}, nil
		}}
	}},
	{"deadline without status", "Chat/Silent/Deadline", "with no status", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			return resp, context.DeadlineExceeded
		}}
	}},
	{"deadline not matching", "Chat/Silent/Deadline", "not matching context deadline exceeded", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Err = errors.New("timeout") })}
	}},
	{"deadline noticed late", "Chat/Silent/Deadline", "returned after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			time.Sleep(time.Second)
			return resp, err
		}}
	}},
	{"deadline ignored", "Chat/Silent/Deadline", "Chat still running after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			time.Sleep(time.Minute)
			return resp, err
		}}
	}},
	{"cancel as a timeout", "Chat/Silent/Canceled", "not matching context canceled", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			return resp, &providers.Error{Status: providers.StatusTimeout}
		}}
	}},
	{"cancel noticed late", "Chat/Silent/Canceled", "returned after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			time.Sleep(time.Second)
			return resp, err
		}}
	}},
	{"key in message", "Chat/ServerError", "shows the API key", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Message = "bad key " + key })}
	}},
	{"key in a wrapped cause", "Chat/ServerError", "shows the API key when printed with %#v;", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, chat: chatErr(func(e *providers.Error) { e.Err = fmt.Errorf("wrapped: %w", holder{key}) })}
	}},
	{"leaked goroutine", "Chat/Answer", "goroutine(s) it started still running", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		stop := make(chan struct{})
		t.Cleanup(func() { close(stop) })
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			go func() { <-stop }()
			return resp, err
		}}
	}},
	{"retried", "Chat/ServerError", "received 2 requests; want 1", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		srv := providertest.Serve(t, dummyWire{}, b)
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			get(ctx, srv.URL)
			get(ctx, srv.URL)
			return resp, err
		}}
	}},
	{"request left open", "Chat/Silent/Deadline", "request was still open", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		srv := providertest.Serve(t, dummyWire{}, b)
		return &mutant{Provider: f, chat: func(ctx context.Context, resp openai.ChatCompletionResponse, err error) (openai.ChatCompletionResponse, error) {
			sent := make(chan struct{})
			go func() {
				time.AfterFunc(100*time.Millisecond, func() { close(sent) })
				get(context.Background(), srv.URL) // left to the server
			}()
			<-sent
			return resp, err
		}}
	}},

	{"no stream and no error", "Stream/Answer", "ChatStream = nil, nil", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, stream: func(providers.Stream, error) (providers.Stream, error) { return nil, nil }}
	}},
	{"stream never ends", "Stream/Answer", "without ending", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			return c, nil
		}}
	}},
	{"stream text lost", "Stream/Answer", "delivered text", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) {
			if n == 3 {
				c.Choices[0].Delta.Content = ""
			}
		})}
	}},
	{"stream end not io.EOF", "Stream/Answer", "want io.EOF itself", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error { return fmt.Errorf("done: %w", err) })}
	}},
	{"stream goes on after io.EOF", "Stream/Answer", "Recv after io.EOF", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		eofs := 0
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			if err == io.EOF {
				if eofs++; eofs > 1 {
					return c, nil
				}
			}
			return c, err
		}}
	}},
	{"stream usage lost", "Stream/Answer", "reported no usage", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) { c.Usage = nil })}
	}},
	{"stream usage wrong", "Stream/Answer", "usage mismatch", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) {
			if c.Usage != nil {
				c.Usage.PromptTokens++
			}
		})}
	}},
	{"stream finish reason lost", "Stream/Answer", "finish reasons mismatch", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) {
			for i := range c.Choices {
				c.Choices[i].FinishReason = ""
			}
		})}
	}},
	{"stream chunk without id", "Stream/Answer", "chunk ids", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) {
			if n == 2 {
				c.ID = ""
			}
		})}
	}},
	{"stream chunk with another model", "Stream/Answer", "chunk models", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvChunk(func(n int, c *openai.ChatCompletionStreamResponse) {
			if n == 1 {
				c.Model = "gpt-4o-mini"
			}
		})}
	}},
	{"stream fault after the stream started", "Stream/RateLimited", "want the upstream's failure from ChatStream itself", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		f.Script(fake.AnyModel, faultSteps[providertest.FaultRateLimited].InBand())
		return &mutant{Provider: f}
	}},
	{"cut as io.EOF", "Stream/Cut", "matching io.EOF", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(error) error { return io.EOF })}
	}},
	{"cut without code", "Stream/Cut", `code = ""; want "stream_truncated"`, func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error { return withError(err, func(e *providers.Error) { e.Code = "" }) })}
	}},
	{"cut loses text", "Stream/Cut", "delivered text", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			if n == 4 {
				return openai.ChatCompletionStreamResponse{}, &providers.Error{Status: 502, Code: providers.CodeStreamTruncated}
			}
			return c, err
		}}
	}},
	{"failed stream goes on", "Stream/Cut", "Recv after it failed error = nil", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		failed := false
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			if failed {
				return c, nil
			}
			failed = err != nil
			return c, err
		}}
	}},
	{"failed stream ends as io.EOF", "Stream/ErrorEvent/Overloaded", "Recv after it failed error = EOF, matching io.EOF", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		failed := false
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			if failed {
				return c, io.EOF
			}
			failed = err != nil
			return c, err
		}}
	}},
	{"malformed without code", "Stream/Malformed", `code = ""; want "malformed_event"`, func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error { return withError(err, func(e *providers.Error) { e.Code = "" }) })}
	}},
	{"error event status", "Stream/ErrorEvent/Overloaded", "status = 502; want 503", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error { return withError(err, func(e *providers.Error) { e.Status = 502 }) })}
	}},
	{"error event not an Error", "Stream/ErrorEvent/ServerError", "with no status", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error { return errors.New(err.Error()) })}
	}},
	{"stall deadline as io.EOF", "Stream/Stall/Deadline", "matching io.EOF", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(error) error { return io.EOF })}
	}},
	{"stall cancel as a failure", "Stream/Stall/Canceled", "not matching context canceled", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(error) error { return &providers.Error{Status: 502} })}
	}},
	{"stall deadline noticed late", "Stream/Stall/Deadline", "ended after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error {
			time.Sleep(time.Second)
			return err
		})}
	}},
	{"stall cancel noticed late", "Stream/Stall/Canceled", "Recv returned after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error {
			time.Sleep(time.Second)
			return err
		})}
	}},
	{"Close noticed late", "Stream/Stall/Close", "Recv returned after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error {
			time.Sleep(time.Second)
			return err
		})}
	}},
	{"Close does not unblock Recv", "Stream/Stall/Close", "Recv still blocked after", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, close: func(providers.Stream) error { return nil }}
	}},
	{"Recv after Close", "Stream/Stall/Close", "Recv after Close error", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: func(n int, c openai.ChatCompletionStreamResponse, err error) (openai.ChatCompletionStreamResponse, error) {
			if n > 4 {
				return c, io.EOF
			}
			return c, err
		}}
	}},
	{"closed stream as a failure", "Stream/Stall/Close", "closed while Recv waits: Recv error", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, recv: recvErr(func(err error) error {
			if errors.Is(err, providers.ErrStreamClosed) {
				return &providers.Error{Status: 502, Code: providers.CodeStreamTruncated}
			}
			return err
		})}
	}},
	{"stream deadline before headers", "Stream/Silent/Deadline", "with no status", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, stream: func(st providers.Stream, err error) (providers.Stream, error) {
			if err != nil {
				err = context.DeadlineExceeded
			}
			return st, err
		}}
	}},

	{"embed order", "Embed/Answer", "Embed vectors mismatch", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, embed: func(r openai.EmbeddingResponse, err error) (openai.EmbeddingResponse, error) {
			r.Data[0].Embedding, r.Data[1].Embedding = r.Data[1].Embedding, r.Data[0].Embedding
			return r, err
		}}
	}},
	{"embed usage", "Embed/Answer", "Embed usage prompt tokens = 0; want 12", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, embed: func(r openai.EmbeddingResponse, err error) (openai.EmbeddingResponse, error) {
			r.Usage.PromptTokens = 0
			return r, err
		}}
	}},
	{"embed retry-after", "Embed/RateLimited", "RetryAfter = 0s; want 7s", func(t *testing.T, b providertest.Behaviour, f *fake.Provider) providers.Provider {
		return &mutant{Provider: f, embed: func(r openai.EmbeddingResponse, err error) (openai.EmbeddingResponse, error) {
			return r, withError(err, func(e *providers.Error) { e.RetryAfter = 0 })
		}}
	}},
}

// brokenEnv names the mutant a TestBroken process runs.
const brokenEnv = "PROVIDERTEST_MUTANT"

// TestBroken runs the suite against one mutant, when a TestSuiteCatches
// process asks for it; it is meant to fail.
func TestBroken(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only in a process started by TestSuiteCatches")
	}
	providertest.ShortenWaits()
	for _, mt := range mutants {
		if mt.name != name {
			continue
		}
		h := fakeHarness()
		h.New = func(t *testing.T, b providertest.Behaviour) providers.Provider {
			f := fake.New()
			f.Script(fake.AnyModel, step(t, b))
			return mt.m(t, b, f)
		}
		providertest.Run(t, h)
		return
	}
	t.Fatalf("no mutant %q", name)
}

// TestSuiteCatches breaks the fake one way at a time and checks that the
// suite fails, saying what broke: every expectation of the suite can fail.
func TestSuiteCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process per mutant")
	}
	if os.Getenv(brokenEnv) != "" {
		t.Skip("inside a mutant's process")
	}
	for _, mt := range mutants {
		t.Run(mt.name, func(t *testing.T) {
			// Most mutants wait out a short bound; two at a time (the
			// default -test.parallel on two cores) halves the wait.
			t.Parallel()
			pattern := "^TestBroken$"
			for part := range strings.SplitSeq(mt.run, "/") {
				pattern += "/^" + regexp.QuoteMeta(part) + "$"
			}
			cmd := exec.Command(os.Args[0], "-test.run="+pattern, "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+mt.name)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err == nil {
				t.Fatalf("suite passed %s broken (%s); want it to fail:\n%s", mt.name, mt.run, out.String())
			}
			if !strings.Contains(out.String(), "--- FAIL: TestBroken/"+mt.run+" ") {
				t.Errorf("subtest %s did not fail; want it to:\n%s", mt.run, out.String())
			}
			if !strings.Contains(out.String(), mt.want) {
				t.Errorf("suite output for %s broken does not say %q:\n%s", mt.name, mt.want, out.String())
			}
		})
	}
}
