package retry_test

import (
	"testing"

	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/target"
)

func TestClassifyError(t *testing.T) {
	p := retry.NewPolicy(target.Retry{Attempts: 2, OnStatusCodes: []int{400, 503}}, []int{503}, "context_length_exceeded")
	tests := []struct {
		status int
		code   string
		try    int
		want   retry.Decision
	}{
		// A listed code falls back at once, even where its status would
		// be retried or stop the call.
		{400, "context_length_exceeded", 1, retry.Fallback},
		{503, "context_length_exceeded", 1, retry.Fallback},
		// Any other code is classified by its status.
		{400, "invalid_request_error", 1, retry.Again},
		{400, "invalid_request_error", 3, retry.Stop},
		{503, "", 3, retry.Fallback},
		{400, "", 3, retry.Stop},
	}
	for _, tt := range tests {
		if got := p.ClassifyError(tt.status, tt.code, tt.try); got != tt.want {
			t.Errorf("ClassifyError(%d, %q, %d) = %v, want %v", tt.status, tt.code, tt.try, got, tt.want)
		}
	}
	none := retry.NewPolicy(target.Retry{}, nil)
	if got := none.ClassifyError(400, "context_length_exceeded", 1); got != retry.Stop {
		t.Errorf("without fallback_error_codes, ClassifyError = %v, want stop", got)
	}
}
