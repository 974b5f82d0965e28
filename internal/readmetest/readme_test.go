package readmetest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The repository's root, from this package's directory.
const root = "../.."

// Keys planted in the program's environment: each server checks its own
// arrives, and none may appear in what the program prints.
const (
	azureKey  = "azure-key-0123456789abcdef"
	openaiKey = "sk-openai-0123456789abcdefghijkl"
)

// section returns the part of the README under the level-2 heading title.
func section(t *testing.T, readme, title string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// blocks returns the fenced code blocks of lang in text, in order.
func blocks(text, lang string) []string {
	re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```$")
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// quickstart returns the README's quickstart program and the manifest it
// embeds, verbatim.
func quickstart(t *testing.T) (code, manifest string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	qs := section(t, string(readme), "Quickstart")
	gos, yamls := blocks(qs, "go"), blocks(qs, "yaml")
	if len(gos) != 1 || len(yamls) != 1 {
		t.Fatalf("the quickstart has %d Go and %d YAML blocks; want one of each", len(gos), len(yamls))
	}
	return gos[0], yamls[0]
}

// upstream is a loopback server for one provider account: it answers
// chat completions, whole or streamed, in the OpenAI wire format, or
// fails every call with 503.
type upstream struct {
	*httptest.Server
	calls atomic.Int32
}

// serve starts an upstream answering with text at path, accepting only
// requests whose header h carries want.
func serve(t *testing.T, path, h, want, text string, down bool) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		if r.URL.Path != path || r.Header.Get(h) != want {
			t.Errorf("%s %s with %s %q; want %s with %q", r.Method, r.URL.Path, h, r.Header.Get(h), path, want)
			http.Error(w, `{"error": {"message": "unexpected request", "type": "invalid_request_error"}}`, http.StatusNotFound)
			return
		}
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("request body: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case down:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error": {"message": "The server is overloaded.", "type": "server_error"}}`)
		case req.Stream:
			w.Header().Set("Content-Type", "text/event-stream")
			for i, part := range strings.SplitAfter(text, " ") {
				chunk := map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
					"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": part}}}}
				if i == 0 {
					chunk["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)["role"] = "assistant"
				}
				data, _ := json.Marshal(chunk)
				fmt.Fprintf(w, "data: %s\n\n", data)
			}
			fmt.Fprintf(w, "data: {\"id\": \"c1\", \"object\": \"chat.completion.chunk\", \"model\": %q, \"choices\": [{\"index\": 0, \"delta\": {}, \"finish_reason\": \"stop\"}]}\n\n", req.Model)
			fmt.Fprint(w, "data: [DONE]\n\n")
		default:
			json.NewEncoder(w).Encode(map[string]any{
				"id": "c1", "object": "chat.completion", "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
					"message": map[string]any{"role": "assistant", "content": text}}},
				"usage": map[string]int{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
			})
		}
	}))
	t.Cleanup(u.Close)
	return u
}

// TestQuickstart builds the README's quickstart as written, in a module of
// its own that uses this repository, and runs it against loopback Azure
// OpenAI and OpenAI servers: a healthy Azure serves; a failing one is
// retried, then OpenAI takes over; with both failing the program exits
// with an error that names the attempts. No key appears in its output.
func TestQuickstart(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not on PATH, so the README quickstart cannot be built: %v", err)
	}
	code, manifest := quickstart(t)
	dir := t.TempDir()
	write(t, dir, "main.go", code)
	write(t, dir, "llmroute.yaml", manifest)
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	// The root module's requirements and sums cover everything the
	// program needs, so nothing is fetched: tidy only trims.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	_, reqs, _ := strings.Cut(string(gomod), "\nrequire ")
	write(t, dir, "go.mod", "module quickstart\n\ngo 1.26.0\n\nrequire github.com/llmroute/llmroute v0.0.0\n\nrequire "+reqs+
		"\nreplace github.com/llmroute/llmroute => "+abs+"\n")
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "go.sum", string(gosum))
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := command(dir, env, goTool, "mod", "tidy"); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}

	tests := []struct {
		name                  string
		azureDown, openaiDown bool
		wantStdout            string
		wantErr               string // in stderr, when the program fails
		wantCalls             [2]int // Azure's, OpenAI's
	}{{
		name:       "Azure serves",
		wantStdout: "Hello from Azure.\nserved by azure-main/gpt-4o in 1 attempt(s)\nHello from Azure.\n",
		wantCalls:  [2]int{2, 0},
	}, {
		// Three tries on Azure (two retries), then OpenAI. Azure
		// is unhealthy by then, so the stream goes to OpenAI first.
		name:       "Azure fails, OpenAI takes over",
		azureDown:  true,
		wantStdout: "Hello from OpenAI.\nserved by openai-main/gpt-4o in 4 attempt(s)\nHello from OpenAI.\n",
		wantCalls:  [2]int{3, 2},
	}, {
		name:      "both fail",
		azureDown: true, openaiDown: true,
		wantErr:   `routing: "booking-app/gpt-prod": 6 attempts failed; last: `,
		wantCalls: [2]int{3, 3},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			azure := serve(t, "/openai/deployments/gpt-4o/chat/completions", "api-key", azureKey, "Hello from Azure.", tt.azureDown)
			openai := serve(t, "/v1/chat/completions", "Authorization", "Bearer "+openaiKey, "Hello from OpenAI.", tt.openaiDown)
			env := append(env[:len(env):len(env)],
				"AZURE_OPENAI_ENDPOINT="+azure.URL, "AZURE_OPENAI_API_KEY="+azureKey,
				"OPENAI_BASE_URL="+openai.URL+"/v1", "OPENAI_API_KEY="+openaiKey)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(goTool, "run", ".")
			cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
			err := cmd.Run()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("go run: %v\n%s", err, stderr.String())
				}
				if diff := cmp.Diff(stdout.String(), tt.wantStdout); diff != "" {
					t.Errorf("output (-got +want):\n%s", diff)
				}
			} else {
				if err == nil || !strings.Contains(stderr.String(), tt.wantErr) || !strings.Contains(stderr.String(), "503") {
					t.Errorf("go run: %v, stderr %q; want a failure with %q and the status 503", err, stderr.String(), tt.wantErr)
				}
			}
			if got := [2]int{int(azure.calls.Load()), int(openai.calls.Load())}; got != tt.wantCalls {
				t.Errorf("calls (Azure, OpenAI) = %v, want %v", got, tt.wantCalls)
			}
			for _, key := range []string{azureKey, openaiKey} {
				if strings.Contains(stdout.String()+stderr.String(), key) {
					t.Errorf("the program's output shows the key %q", key)
				}
			}
		})
	}
}

// TestManifestInBrief checks that the README's annotated manifest is valid
// for the accounts the quickstart registers.
func TestManifestInBrief(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	yamls := blocks(section(t, string(readme), "The manifest in brief"), "yaml")
	if len(yamls) != 1 {
		t.Fatalf("the section has %d YAML blocks, want 1", len(yamls))
	}
	m, err := routing.LoadManifest([]byte(yamls[0]))
	if err != nil {
		t.Fatal(err)
	}
	accounts := routing.Accounts{"azure-main": fake.New(), "openai-main": fake.New()}
	if err := m.Validate(accounts, nil); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func command(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	return cmd.CombinedOutput()
}

// TestTracingLinesAreTheExamples checks that every line of the README's
// OpenTelemetry snippet is a line of the example program CI builds and
// runs, so the snippet cannot drift from code that works.
func TestTracingLinesAreTheExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "examples", "opentelemetry", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	snippets := blocks(section(t, string(readme), "Tracing with OpenTelemetry"), "go")
	if len(snippets) != 1 {
		t.Fatalf("the section has %d Go blocks, want 1", len(snippets))
	}
	for _, line := range strings.Split(snippets[0], "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "import ") {
			line = strings.TrimPrefix(line, "import ")
		}
		if line != "" && !strings.Contains(string(example), line) {
			t.Errorf("README line %q is not in examples/opentelemetry/main.go", line)
		}
	}
}
