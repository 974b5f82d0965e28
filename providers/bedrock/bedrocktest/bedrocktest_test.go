package bedrocktest_test

import (
	"bytes"
	"context"

	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

func TestReadRequest(t *testing.T) {
	tests := []struct {
		method, path, body string
		model              string
		stream             bool
		err                string
	}{
		{"POST", "/model/anthropic.claude-v2%3A1/converse", `{}`, "anthropic.claude-v2:1", false, ""},
		{"POST", "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.m/converse-stream", `{}`, "arn:aws:bedrock:us-east-1:1:inference-profile/us.m", true, ""},
		{"GET", "/model/m/converse", `{}`, "", false, "method GET"},
		{"POST", "/models/m/converse", `{}`, "", false, "does not start with /model/"},
		{"POST", "/model/arn:aws/x/converse", `{}`, "", false, "is not /model/{modelId}/{operation}"},
		{"POST", "/model/m/invoke", `{}`, "", false, "unknown operation"},
		{"POST", "/model/m/converse", `[1]`, "", false, "not a JSON object"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://bedrock"+tt.path, strings.NewReader(tt.body))
		got, err := bedrocktest.ReadRequest(r)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %s: error %v; want one saying %q", tt.method, tt.path, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
			continue
		}
		if got.Model != tt.model || got.Stream != tt.stream {
			t.Errorf("%s: model %q stream %v; want %q %v", tt.path, got.Model, got.Stream, tt.model, tt.stream)
		}
	}
}

// TestCheckSignature accepts a request the SDK's signer signed and
// refuses one changed after signing.
func TestCheckSignature(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	body := []byte(`{"messages":[]}`)
	signed := func() *http.Request {
		r := httptest.NewRequest("POST", "http://127.0.0.1:9/model/m%3A1/converse", bytes.NewReader(body))
		r.RequestURI = ""
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Custom", "a")
		r.ContentLength = int64(len(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash(body), "bedrock", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		r.RequestURI = r.URL.RequestURI()
		return r
	}
	tests := []struct {
		name   string
		change func(r *http.Request) (*http.Request, []byte)
		creds  aws.Credentials
		region string
		ok     bool
	}{
		{"as signed", func(r *http.Request) (*http.Request, []byte) { return r, body }, creds, "us-east-1", true},
		{"an unsigned header added", func(r *http.Request) (*http.Request, []byte) { r.Header.Set("X-Later", "1"); return r, body }, creds, "us-east-1", true},
		{"a signed header changed", func(r *http.Request) (*http.Request, []byte) { r.Header.Set("X-Custom", "b"); return r, body }, creds, "us-east-1", false},
		{"a signed header removed", func(r *http.Request) (*http.Request, []byte) { r.Header.Del("X-Custom"); return r, body }, creds, "us-east-1", false},
		{"the body changed", func(r *http.Request) (*http.Request, []byte) { return r, []byte(`{"messages":[1]}`) }, creds, "us-east-1", false},
		{"another secret", func(r *http.Request) (*http.Request, []byte) { return r, body }, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "other"}, "us-east-1", false},
		{"another key id", func(r *http.Request) (*http.Request, []byte) { return r, body }, aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "secret"}, "us-east-1", false},
		{"another region", func(r *http.Request) (*http.Request, []byte) { return r, body }, creds, "eu-west-1", false},
		{"not SigV4", func(r *http.Request) (*http.Request, []byte) {
			r.Header.Set("Authorization", "Bearer x")
			return r, body
		}, creds, "us-east-1", false},
	}
	for _, tt := range tests {
		r, b := tt.change(signed())
		err := bedrocktest.CheckSignature(r, b, tt.creds, tt.region)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckSignature = %v; want ok %v", tt.name, err, tt.ok)
		}
	}
}

func payloadHash(b []byte) string {
	return v4PayloadHash(b)
}

// TestEvents checks the frames an Events writes decode as the SDK's
// event stream messages with the right headers.
func TestEvents(t *testing.T) {
	rec := httptest.NewRecorder()
	ev := bedrocktest.NewEvents(rec, "req-1")
	_ = ev.MessageStart()
	_ = ev.Text(0, "Hi")
	_ = ev.Exception("throttlingException", "slow")
	if err := ev.Err(); err != nil {
		t.Fatal(err)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/vnd.amazon.eventstream" {
		t.Errorf("content type %q", got)
	}
	if got := rec.Header().Get("X-Amzn-Requestid"); got != "req-1" {
		t.Errorf("request id %q", got)
	}
	got := decodeAll(t, rec.Body)
	want := []string{
		`event messageStart {"role":"assistant"}`,
		`event contentBlockDelta {"contentBlockIndex":0,"delta":{"text":"Hi"}}`,
		`exception throttlingException {"message":"slow"}`,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("frames (-got +want):\n%s", diff)
	}
}
