package providers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"2", 2 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"Tue, 24 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 24-Nov-26 12:01:00 GMT", time.Minute, true},
		{"Tue Nov 24 12:00:05 2026", 5 * time.Second, true},
		{"Tue, 24 Nov 2026 11:00:00 GMT", 0, true}, // in the past: no wait
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"9223372036854775807", time.Duration(9223372036) * time.Second, true},
	}
	for _, tt := range tests {
		got, ok := providers.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"2", "Tue, 24 Nov 2026 12:00:30 GMT", "", "-1", "1e9", "18446744073709551616"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := providers.ParseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v but not ok", s, d)
		}
	})
}

func TestParseRetryAfterMS(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"250", 250 * time.Millisecond, true},
		{" 1234.5 ", 1234500 * time.Microsecond, true},
		{"0", 0, true},
		{"99999999999999999999999", 2562047*time.Hour + 47*time.Minute + 16853999616*time.Nanosecond, true}, // the cap, as close to MaxInt64 as float64 gets
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"inf", 0, false},
		{".", 0, false},
		{"1.2.3", 0, false},
		{"soon", 0, false},
		{strings.Repeat("1", 33), 0, false},
	} {
		got, ok := providers.ParseRetryAfterMS(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfterMS(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfterMS(f *testing.F) {
	for _, s := range []string{"250", "1234.5", "0", "", "-1", "1e3", "NaN", "inf", ".", "1.2.3", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := providers.ParseRetryAfterMS(v)
		if !ok && d != 0 {
			t.Errorf("ParseRetryAfterMS(%q) = %v, false", v, d)
		}
		if d < 0 {
			t.Errorf("ParseRetryAfterMS(%q) = %v, negative", v, d)
		}
	})
}

func TestErrorText(t *testing.T) {
	cause := errors.New("connection reset")
	tests := []struct {
		err  *providers.Error
		want string
	}{
		{&providers.Error{Status: 503}, "status 503"},
		{&providers.Error{Status: 400, Code: "context_length_exceeded", Message: "too long"}, "status 400 (context_length_exceeded): too long"},
		{&providers.Error{Status: 429, Message: "slow down", RetryAfter: 2 * time.Second}, "status 429: slow down (retry after 2s)"},
		{&providers.Error{Status: 502, Err: cause}, "status 502: connection reset"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	wrapped := fmt.Errorf("attempt: %w", &providers.Error{Status: 502, Err: cause})
	pe, ok := providers.AsError(wrapped)
	if !ok || pe.StatusCode() != 502 || !errors.Is(wrapped, cause) {
		t.Errorf("AsError(%v) = %v, %v; want the 502 with its cause", wrapped, pe, ok)
	}
	if _, ok := providers.AsError(cause); ok {
		t.Error("AsError found a *providers.Error in a plain error")
	}
}

func TestOperations(t *testing.T) {
	full := fake.New()
	chatOnly := full.ChatOnly()
	for _, name := range []string{"chat", "completion", "embedding"} {
		op, ok := providers.ParseOperation(name)
		if !ok || op.String() != name {
			t.Errorf("ParseOperation(%q) = %v, %v", name, op, ok)
		}
		if !providers.Supports(full, op) {
			t.Errorf("the full fake does not support %s", op)
		}
		if got, want := providers.Supports(chatOnly, op), op == providers.OpChat; got != want {
			t.Errorf("Supports(chat-only, %s) = %v, want %v", op, got, want)
		}
	}
	if _, ok := providers.ParseOperation("images"); ok {
		t.Error(`ParseOperation("images") succeeded`)
	}
	if s := providers.Operation(0).String(); !strings.Contains(s, "unknown") {
		t.Errorf("Operation(0).String() = %q", s)
	}
}
