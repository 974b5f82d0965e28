package gemini_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"

	"cloud.google.com/go/auth"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
)

// TestNewRefuses checks the configurations New refuses, each with an
// error naming the field, never containing the key.
func TestNewRefuses(t *testing.T) {
	creds := auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken("tok")})
	tests := []struct {
		name string
		cfg  *genai.ClientConfig
		want string
	}{
		{"nil", nil, "nil ClientConfig"},
		{"the Gemini API with no key", &genai.ClientConfig{Backend: genai.BackendGeminiAPI}, "APIKey is required"},
		{"the Gemini API with a project", &genai.ClientConfig{APIKey: testKey, Project: "p"}, "Project and ClientConfig.Location are for Vertex AI"},
		{"the Gemini API with credentials", &genai.ClientConfig{Backend: genai.BackendGeminiAPI, Credentials: creds}, "APIKey is required"},
		{"a key and credentials", &genai.ClientConfig{APIKey: testKey, Credentials: creds}, "mutually exclusive"},
		{"an unknown backend", &genai.ClientConfig{APIKey: testKey, Backend: 9}, "not a known backend"},
		{"Vertex AI with nothing", &genai.ClientConfig{Backend: genai.BackendVertexAI}, "needs ClientConfig.Project"},
		{"Vertex AI with a location only", &genai.ClientConfig{Backend: genai.BackendVertexAI, Location: "us-central1"}, "Project is required"},
		{"Vertex AI with no credentials", &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "p", Location: "us-central1"}, "needs ClientConfig.Credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gem.New(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
			if p != nil {
				t.Errorf("New returned a Provider with its error")
			}
			if strings.Contains(errorTexts(err), testKey) {
				t.Errorf("the error contains the key: %v", err)
			}
		})
	}
}

// staticToken is a TokenProvider with a fixed token.
type staticToken string

func (s staticToken) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(s), Type: "Bearer"}, nil
}

// TestNothingFromTheEnvironment sets every variable genai reads and checks
// that the Provider still calls the configured endpoint with the
// configured key, and that a Vertex AI proxy is not handed a key from the
// environment.
func TestNothingFromTheEnvironment(t *testing.T) {
	const envKey = "AIzaSyENVIRONMENT-0123456789abcdefghijkl"
	// genai logs a warning for each conflict it resolves between the
	// variables; this test sets them all on purpose.
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	elsewhere := newServer(t, nil)
	for k, v := range map[string]string{
		"GOOGLE_API_KEY":            envKey,
		"GEMINI_API_KEY":            envKey,
		"GOOGLE_GENAI_USE_VERTEXAI": "true",
		"GOOGLE_CLOUD_PROJECT":      "env-project",
		"GOOGLE_CLOUD_LOCATION":     "env-location",
		"GOOGLE_GEMINI_BASE_URL":    elsewhere.URL,
		"GOOGLE_VERTEX_BASE_URL":    elsewhere.URL,
	} {
		t.Setenv(k, v)
	}

	t.Run("the Gemini API", func(t *testing.T) {
		srv := newServer(t, nil)
		p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey, HTTPClient: &http.Client{Transport: testTransport(t)},
			HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
		if _, err := p.Chat(context.Background(), userSays("m", "Hi")); err != nil {
			t.Fatal(err)
		}
		got := srv.only(t)
		if got.Path != "/v1beta/models/m:generateContent" || got.Header.Get("X-Goog-Api-Key") != testKey {
			t.Errorf("request to %s with key %q; want the Gemini API path and the configured key", got.Path, got.Header.Get("X-Goog-Api-Key"))
		}
		if info := p.Describe(); info.Name != "gcp.gemini" {
			t.Errorf("Describe().Name %q, want gcp.gemini", info.Name)
		}
	})
	t.Run("the default endpoint is not taken from the environment", func(t *testing.T) {
		p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey})
		want := providers.Info{Name: "gcp.gemini", Address: "generativelanguage.googleapis.com", Port: 443}
		if diff := cmp.Diff(p.Describe(), want); diff != "" {
			t.Errorf("Describe (-got +want):\n%s", diff)
		}
	})
	t.Run("Vertex AI express mode", func(t *testing.T) {
		srv := newServer(t, nil)
		p := newProviderWith(t, &genai.ClientConfig{Backend: genai.BackendVertexAI, APIKey: testKey,
			HTTPClient: &http.Client{Transport: testTransport(t)}, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
		if _, err := p.Chat(context.Background(), userSays("gemini-2.5-flash", "Hi")); err != nil {
			t.Fatal(err)
		}
		got := srv.only(t)
		if got.Path != "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent" || got.Header.Get("X-Goog-Api-Key") != testKey {
			t.Errorf("request to %s with key %q; want Vertex's publisher path and the configured key", got.Path, got.Header.Get("X-Goog-Api-Key"))
		}
	})
	t.Run("a Vertex AI proxy would be handed the environment's key", func(t *testing.T) {
		// With a project or location in the environment genai drops the
		// key; without them it keeps it.
		t.Setenv("GOOGLE_CLOUD_PROJECT", "")
		t.Setenv("GOOGLE_CLOUD_LOCATION", "")
		_, err := gem.New(context.Background(), &genai.ClientConfig{Backend: genai.BackendVertexAI,
			HTTPClient: &http.Client{Transport: testTransport(t)}, HTTPOptions: genai.HTTPOptions{BaseURL: elsewhere.URL}})
		if err == nil || !strings.Contains(err.Error(), "GOOGLE_API_KEY") {
			t.Fatalf("New: %v, want an error naming GOOGLE_API_KEY", err)
		}
		if strings.Contains(errorTexts(err), envKey) {
			t.Errorf("the error contains the environment's key: %v", err)
		}
	})
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the environment's endpoint got %d requests", n)
	}
}

// TestVertexAI checks Vertex AI with a project, a location and
// credentials: the project's path, the credentials' token, the name and
// address it describes.
func TestVertexAI(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		// The authenticating client's transport is not the test's: do
		// not leave it an idle connection.
		w.Header().Set("Connection", "close")
		writeJSON(w, 200, answerText("Hi from Vertex"))
	})
	creds := auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken("ya29.token-0123456789")})
	p := newProviderWith(t, &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "proj", Location: "europe-west4",
		Credentials: creds, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	resp, err := p.Chat(context.Background(), userSays("gemini-2.5-pro", "Hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Hi from Vertex" {
		t.Errorf("answer %q", resp.Choices[0].Message.Content)
	}
	got := srv.only(t)
	if want := "/v1beta1/projects/proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"; got.Path != want {
		t.Errorf("path %q, want %q", got.Path, want)
	}
	if got.Header.Get("Authorization") != "Bearer ya29.token-0123456789" {
		t.Errorf("Authorization %q, want the credentials' token", got.Header.Get("Authorization"))
	}
	if info := p.Describe(); info.Name != "gcp.vertex_ai" || info.Address != "127.0.0.1" || info.Port == 0 {
		t.Errorf("Describe %+v, want gcp.vertex_ai at the server's address", info)
	}
}

// TestDescribe checks the name and the default endpoints.
func TestDescribe(t *testing.T) {
	creds := auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken("tok")})
	tests := []struct {
		name string
		cfg  *genai.ClientConfig
		want providers.Info
	}{
		{"Gemini API", &genai.ClientConfig{APIKey: testKey, Backend: genai.BackendGeminiAPI},
			providers.Info{Name: "gcp.gemini", Address: "generativelanguage.googleapis.com", Port: 443}},
		{"Gemini API through a proxy", &genai.ClientConfig{APIKey: testKey, HTTPOptions: genai.HTTPOptions{BaseURL: "http://gw.internal:8080/gemini/"}},
			providers.Info{Name: "gcp.gemini", Address: "gw.internal", Port: 8080}},
		{"Vertex AI in a region", &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "p", Location: "us-central1", HTTPClient: &http.Client{}},
			providers.Info{Name: "gcp.vertex_ai", Address: "us-central1-aiplatform.googleapis.com", Port: 443}},
		{"Vertex AI multi-region", &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "p", Location: "eu", Credentials: creds},
			providers.Info{Name: "gcp.vertex_ai", Address: "aiplatform.eu.rep.googleapis.com", Port: 443}},
		{"Vertex AI global", &genai.ClientConfig{Backend: genai.BackendEnterprise, Project: "p", HTTPClient: &http.Client{}},
			providers.Info{Name: "gcp.vertex_ai", Address: "aiplatform.googleapis.com", Port: 443}},
		{"Vertex AI express", &genai.ClientConfig{Backend: genai.BackendVertexAI, APIKey: testKey},
			providers.Info{Name: "gcp.vertex_ai", Address: "aiplatform.googleapis.com", Port: 443}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(newProviderWith(t, tt.cfg).Describe(), tt.want); diff != "" {
				t.Errorf("Describe (-got +want):\n%s", diff)
			}
		})
	}
	var zero *gem.Provider
	if diff := cmp.Diff(zero.Describe(), providers.Info{}); diff != "" {
		t.Errorf("nil Provider's Describe (-got +want):\n%s", diff)
	}
}

// TestConfigNotModified checks that New copies the caller's configuration
// and HTTP client rather than changing them.
func TestConfigNotModified(t *testing.T) {
	tr := testTransport(t)
	hc := &http.Client{Transport: tr}
	cfg := &genai.ClientConfig{APIKey: testKey, HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{RetryOptions: &genai.HTTPRetryOptions{}}}
	before := *cfg
	newProviderWith(t, cfg)
	if cfg.HTTPClient != hc || hc.Transport != tr || cfg.HTTPOptions.BaseURL != "" || cfg.HTTPOptions.RetryOptions != before.HTTPOptions.RetryOptions || cfg.Backend != before.Backend {
		t.Errorf("New changed the caller's config: %+v", cfg)
	}
}

// TestHeaders checks Call.Header and Call.RemoveHeader on the request:
// set after genai's own headers, so an override replaces genai's value
// (the API key included), and removal strips what genai set.
func TestHeaders(t *testing.T) {
	const otherKey = "AIzaSyOTHER-ACCOUNT-0123456789abcdefghij"
	srv := newServer(t, nil)
	p := newProvider(t, srv)
	req := userSays("m", "Hi")
	req.Header = http.Header{"X-Caller": {"svc"}, "User-Agent": {"booking-app/1.0"}, "X-Goog-Api-Key": {otherKey}}
	req.RemoveHeader = []string{"X-Goog-Api-Client"}
	if _, err := p.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	// A second call without them: nothing carried over.
	if _, err := p.Chat(context.Background(), userSays("m", "Hi")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	got := map[string][]string{}
	for i, r := range reqs {
		for _, k := range []string{"X-Caller", "User-Agent", "X-Goog-Api-Key", "X-Goog-Api-Client"} {
			got[fmt.Sprint(i, " ", k)] = r.Header.Values(k)
		}
	}
	ua := reqs[1].Header.Values("User-Agent")
	want := map[string][]string{
		"0 X-Caller": {"svc"}, "0 User-Agent": {"booking-app/1.0"}, "0 X-Goog-Api-Key": {otherKey}, "0 X-Goog-Api-Client": nil,
		"1 X-Caller": nil, "1 User-Agent": ua, "1 X-Goog-Api-Key": {testKey}, "1 X-Goog-Api-Client": reqs[1].Header.Values("X-Goog-Api-Client"),
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("headers (-got +want):\n%s", diff)
	}
	if len(ua) != 1 || !strings.HasPrefix(ua[0], "google-genai-sdk/") {
		t.Errorf("second call's User-Agent %q, want genai's", ua)
	}
}

// TestClientExtrasRequestProvider checks that a body hook set on the
// client configuration runs on every request (genai alone would call a
// nil function for it).
func TestClientExtrasRequestProvider(t *testing.T) {
	srv := newServer(t, nil)
	p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey, HTTPClient: &http.Client{Transport: testTransport(t)},
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL, ExtrasRequestProvider: func(body map[string]any) map[string]any {
			body["customField"] = "set by the hook"
			return body
		}}})
	if _, err := p.Chat(context.Background(), userSays("m", "Hi")); err != nil {
		t.Fatal(err)
	}
	if got := srv.only(t).Body["customField"]; got != "set by the hook" {
		t.Errorf("customField %v, want the hook's value", got)
	}
}

// TestZeroProvider checks that a Provider not made by New fails every
// call rather than panicking, and prints no key.
func TestZeroProvider(t *testing.T) {
	for _, p := range []*gem.Provider{nil, {}} {
		if _, err := p.Chat(context.Background(), userSays("m", "Hi")); err == nil {
			t.Error("Chat on a zero Provider succeeded")
		}
		if _, err := p.ChatStream(context.Background(), userSays("m", "Hi")); err == nil {
			t.Error("ChatStream on a zero Provider succeeded")
		}
		if _, err := p.Embed(context.Background(), providers.EmbeddingRequest{}); err == nil {
			t.Error("Embed on a zero Provider succeeded")
		}
	}
	p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey})
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), p.String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("%q contains the key", s)
		}
	}
}
