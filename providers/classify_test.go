package providers_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// ownError is a user's own error type, known only by its behaviour.
type ownError struct{}

func (ownError) Error() string             { return "own" }
func (ownError) StatusCode() int           { return 429 }
func (ownError) RetryAfter() time.Duration { return 2 * time.Second }
func (ownError) ErrorCode() string         { return "quota" }

// statusOnly has a status and nothing else.
type statusOnly int

func (s statusOnly) Error() string   { return "status only" }
func (s statusOnly) StatusCode() int { return int(s) }

func TestFromError(t *testing.T) {
	pe := &providers.Error{Status: 503, Code: "overloaded_error", RetryAfter: time.Second}
	type facts struct {
		Status     int
		RetryAfter time.Duration
		Code, Type string
	}
	for _, tc := range []struct {
		name string
		err  error
		want *facts // nil: no status anywhere
	}{
		{"providers.Error", pe, &facts{503, time.Second, "overloaded_error", ""}},
		{"wrapped providers.Error", fmt.Errorf("ctx: %w", pe), &facts{503, time.Second, "overloaded_error", ""}},
		{"go-openai APIError with a string code", &goopenai.APIError{HTTPStatusCode: 400, Code: "context_length_exceeded", Type: "invalid_request_error"}, &facts{400, 0, "context_length_exceeded", "invalid_request_error"}},
		{"go-openai APIError with code null", &goopenai.APIError{HTTPStatusCode: 500, Code: nil}, &facts{500, 0, "", ""}},
		{"go-openai APIError with a number code", &goopenai.APIError{HTTPStatusCode: 429, Code: 1302}, &facts{429, 0, "1302", ""}},
		{"go-openai RequestError", fmt.Errorf("call: %w", &goopenai.RequestError{HTTPStatusCode: 502}), &facts{502, 0, "", ""}},
		{"own error, all behaviours", fmt.Errorf("up: %w", ownError{}), &facts{429, 2 * time.Second, "quota", ""}},
		{"status only", statusOnly(404), &facts{404, 0, "", ""}},
		{"status 0 is no status", statusOnly(0), nil},
		{"plain error", errors.New("reset"), nil},
		{"nil", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := providers.FromError(tc.err)
			if tc.want == nil {
				if ok || got != nil {
					t.Fatalf("FromError = %+v, %v; want nil, false", got, ok)
				}
				return
			}
			if !ok {
				t.Fatal("FromError found no status")
			}
			f := facts{got.Status, got.RetryAfter, got.Code, got.Type}
			if diff := cmp.Diff(f, *tc.want, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("facts (-got +want):\n%s", diff)
			}
			if !errors.Is(got, tc.err) && got != pe {
				t.Errorf("the result does not wrap the error it read")
			}
		})
	}
}
