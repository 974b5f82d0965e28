package bedrock_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// signedHeaders returns the SignedHeaders list of a SigV4 Authorization
// header.
func signedHeaders(auth string) []string {
	_, rest, _ := strings.Cut(auth, "SignedHeaders=")
	list, _, _ := strings.Cut(rest, ",")
	return strings.Split(list, ";")
}

// TestAttemptHeaders checks that an attempt's headers reach the server
// signed, that its removals apply, and that the headers of the signature
// itself stay the SDK's. The server verifies every request's signature.
func TestAttemptHeaders(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		if req.Stream {
			ev := bedrocktest.NewEvents(w, "req-s")
			_ = ev.MessageStart()
			_ = ev.Text(0, "ok")
			_ = ev.MessageStop("end_turn")
			return
		}
		answer("ok")(w, r, req)
	})
	p := srv.provider(t)
	call := providers.Call{
		Header: http.Header{
			"X-Tenant":      {"acme"},
			"x-trace":       {"a", "b"},
			"User-Agent":    {"llmroute-test/1"},
			"Authorization": {"Bearer not-a-sigv4-credential"},
			"X-Amz-Date":    {"19990101T000000Z"},
		},
		RemoveHeader: []string{"Amz-Sdk-Invocation-Id", "X-Tenant-Absent", "x-amz-date"},
	}
	req := providers.ChatRequest{Request: userRequest("Hi"), Call: call}
	if _, err := p.Chat(t.Context(), req); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := p.ChatStream(t.Context(), req)
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	_, _ = drain(t, st)
	_ = st.Close()

	for _, got := range srv.requests() {
		h := got.Header
		type seen struct {
			Tenant, Trace, Agent, InvocationID string
			SigV4, DateKept, TenantSigned      bool
		}
		want := seen{Tenant: "acme", Trace: "a,b", Agent: "llmroute-test/1", SigV4: true, DateKept: true, TenantSigned: true}
		signed := signedHeaders(h.Get("Authorization"))
		gotSeen := seen{
			Tenant:       h.Get("X-Tenant"),
			Trace:        strings.Join(h.Values("X-Trace"), ","),
			Agent:        h.Get("User-Agent"),
			InvocationID: h.Get("Amz-Sdk-Invocation-Id"),
			SigV4:        strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+testKeyID+"/"),
			DateKept:     h.Get("X-Amz-Date") != "" && h.Get("X-Amz-Date") != "19990101T000000Z",
			TenantSigned: contains(signed, "x-tenant") && contains(signed, "x-trace"),
		}
		if diff := cmp.Diff(gotSeen, want); diff != "" {
			t.Errorf("stream %v: headers (-got +want):\n%s\n%v", got.Stream, diff, h)
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestConcurrentHeaders: concurrent calls through one Provider each send
// their own headers and nothing of another call's.
func TestConcurrentHeaders(t *testing.T) {
	srv := newServer(t, answer("ok"))
	p := srv.provider(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			id := fmt.Sprint(i)
			req := providers.ChatRequest{Request: userRequest("call " + id), Call: providers.Call{Header: http.Header{"X-Call": {id}}}}
			if _, err := p.Chat(t.Context(), req); err != nil {
				t.Errorf("Chat %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	reqs := srv.requests()
	if len(reqs) != 20 {
		t.Fatalf("server got %d requests; want 20", len(reqs))
	}
	for _, r := range reqs {
		text := r.Body["messages"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
		if want := "call " + r.Header.Get("X-Call"); text != want || len(r.Header.Values("X-Call")) != 1 {
			t.Errorf("request %q came with X-Call %v", text, r.Header.Values("X-Call"))
		}
	}
}
