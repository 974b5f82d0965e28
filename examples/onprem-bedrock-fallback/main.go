// Command onprem-bedrock-fallback shows an on-prem model with Claude on
// Amazon Bedrock as its fallback, through the real adapters on both
// sides. The virtual model "internal-tools/assistant" (manifest.yaml)
// sends every call to a self-hosted, OpenAI-compatible server
// ("vllm-onprem", served through providers/openai) and only when that
// fails, to Claude on Bedrock ("bedrock", served through providers/bedrock
// over the Converse and ConverseStream APIs). Both are local servers
// speaking each provider's wire format, so no network or key is needed:
// the Bedrock one checks every request's SigV4 signature against the
// example's placeholder credentials.
//
//	go run ./examples/onprem-bedrock-fallback
//
// On-prem goes down in the ways self-hosted servers do (it drops the
// connection, answers 503, hangs until the target's request_timeout_ms
// makes the attempt a 408) and Bedrock serves every call meanwhile,
// streams included. After two failures within two minutes on-prem counts
// as unhealthy: calls go to Bedrock first, and once per probe cooldown one
// call tries on-prem first again. The cooldown is 15 s by default; this
// example sets 300 ms (routing.WithProbeCooldown) so that it runs in about
// two seconds. Then on-prem recovers and takes its traffic back.
//
// For real endpoints, only the providers change:
//
//	onprem := goopenai.DefaultConfig("none") // vLLM needs no key unless started with --api-key
//	onprem.BaseURL = "http://vllm.internal:8000/v1"
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("vllm-onprem", oai.New(onprem)),
//		routing.WithProvider("bedrock", bed.New(cfg)),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, bed is
// github.com/llmroute/llmroute/providers/bedrock, config is
// github.com/aws/aws-sdk-go-v2/config.)
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	goopenai "github.com/sashabaranov/go-openai"

	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

const (
	onpremRef  = "vllm-onprem/llama-3-70b"
	bedrockRef = "bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0"
	// cooldown is how long the demoted on-prem target waits for a
	// probe call.
	cooldown = 300 * time.Millisecond
)

// exampleCreds are placeholders: the local Bedrock server checks that
// requests are signed with them, as AWS checks real ones.
var exampleCreds = aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onprem-bedrock-fallback:", err)
		os.Exit(1)
	}
}

// The on-prem server's states.
const (
	up int32 = iota
	crashed
	overloaded
	hung
)

// scene is one call and the on-prem server's state during it.
type scene struct {
	what   string
	onprem int32
	stream bool
	pause  bool // wait out the probe cooldown before the call
}

// run sends one call per scene through internal-tools/assistant and
// prints what happened to w.
func run(w io.Writer) error {
	var state atomic.Int32
	onprem := httptest.NewServer(onpremHandler(&state))
	defer onprem.Close()
	bedrock := httptest.NewServer(bedrockHandler())
	defer bedrock.Close()

	onpremCfg := goopenai.DefaultConfig("none")
	onpremCfg.BaseURL = onprem.URL + "/v1"
	onpremCfg.HTTPClient = onprem.Client()
	awsCfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(exampleCreds.AccessKeyID, exampleCreds.SecretAccessKey, ""),
		HTTPClient:  bedrock.Client(),
	}
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("vllm-onprem", oai.New(onpremCfg)),
		routing.WithProvider("bedrock", bed.New(awsCfg, func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(bedrock.URL) })),
		routing.WithProbeCooldown(cooldown),
	)
	if err != nil {
		return err
	}

	scenes := []scene{
		{what: "on-prem up", onprem: up},
		{what: "on-prem up, streamed", onprem: up, stream: true},
		{what: "on-prem crashed: connection dropped", onprem: crashed, stream: true},
		{what: "on-prem still down", onprem: crashed},
		{what: "on-prem overloaded: 503", onprem: overloaded, pause: true},
		{what: "on-prem hung: no answer", onprem: hung, pause: true},
		{what: "on-prem recovered", onprem: up, pause: true},
		{what: "on-prem up, streamed", onprem: up, stream: true},
	}

	fmt.Fprintf(w, "virtual model internal-tools/assistant: priority %s, then %s\n", onpremRef, bedrockRef)
	var downCalls, downBedrock, upCalls, upOnprem int
	for i, s := range scenes {
		state.Store(s.onprem)
		if s.pause {
			fmt.Fprintf(w, "\n(%v later: on-prem's probe is due)", cooldown)
			time.Sleep(cooldown)
		}
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		start := time.Now()
		answer, err := call(ctx, c, s.stream)
		took := time.Since(start)
		var rerr *routing.Error
		if err != nil && !errors.As(err, &rerr) {
			return err // not a provider failure: a setup problem
		}
		how := "called"
		if s.stream {
			how = "streamed"
		}
		fmt.Fprintf(w, "\ncall %d (%s): ", i+1, s.what)
		printCall(w, &tr, how, answer, took, err)
		if s.onprem != up {
			downCalls++
			if err == nil && tr.Resolved == bedrockRef {
				downBedrock++
			}
		} else {
			upCalls++
			if err == nil && tr.Resolved == onpremRef {
				upOnprem++
			}
		}
	}
	fmt.Fprintf(w, "\nserved by Bedrock while on-prem was down: %d/%d; by on-prem while it was up: %d/%d (streams included)\n",
		downBedrock, downCalls, upOnprem, upCalls)
	return nil
}

// call sends one chat call, streamed or not, and returns the answer.
func call(ctx context.Context, c *routing.Client, stream bool) (string, error) {
	req := goopenai.ChatCompletionRequest{
		Model:    "internal-tools/assistant",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Summarise this incident report."}},
	}
	if !stream {
		resp, err := c.Chat(ctx, req)
		if err != nil {
			return "", err
		}
		return resp.Choices[0].Message.Content, nil
	}
	st, err := c.ChatStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer st.Close()
	var b strings.Builder
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		for _, ch := range chunk.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
}

// printCall prints how a call went and its answer, then its Trace, with
// the errors of the attempts that failed, indented under them.
func printCall(w io.Writer, tr *routing.Trace, how, answer string, took time.Duration, err error) {
	if err != nil {
		fmt.Fprintf(w, "%s, failed after %v: %v\n", how, took.Round(10*time.Millisecond), err)
	} else {
		fmt.Fprintf(w, "%s in %v: %q\n", how, took.Round(10*time.Millisecond), answer)
	}
	fmt.Fprintf(w, "  %+2v\n", tr)
}

// onpremHandler is a vLLM-like OpenAI-compatible server whose state says
// how it answers.
func onpremHandler(state *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req goopenai.ChatCompletionRequest
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &req)
		switch state.Load() {
		case crashed:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		case overloaded:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"object":"error","message":"The server is overloaded.","type":"ServiceUnavailableError","code":503}`)
		case hung:
			<-r.Context().Done()
		default:
			const text = "On-prem summary: disk full on node 7."
			if !req.Stream {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(goopenai.ChatCompletionResponse{
					ID: "chatcmpl-onprem", Object: "chat.completion", Created: 1, Model: req.Model,
					Choices: []goopenai.ChatCompletionChoice{{Message: goopenai.ChatCompletionMessage{Role: "assistant", Content: text}, FinishReason: "stop"}},
					Usage:   goopenai.Usage{PromptTokens: 12, CompletionTokens: 9, TotalTokens: 21},
				})
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			for i, piece := range strings.SplitAfter(text, " ") {
				chunk := goopenai.ChatCompletionStreamResponse{ID: "chatcmpl-onprem", Object: "chat.completion.chunk", Created: 1, Model: req.Model,
					Choices: []goopenai.ChatCompletionStreamChoice{{Delta: goopenai.ChatCompletionStreamChoiceDelta{Content: piece}}}}
				if i == 0 {
					chunk.Choices[0].Delta.Role = "assistant"
				}
				writeEvent(w, chunk)
			}
			writeEvent(w, goopenai.ChatCompletionStreamResponse{ID: "chatcmpl-onprem", Object: "chat.completion.chunk", Created: 1, Model: req.Model,
				Choices: []goopenai.ChatCompletionStreamChoice{{FinishReason: "stop"}}})
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		}
	}
}

func writeEvent(w http.ResponseWriter, chunk goopenai.ChatCompletionStreamResponse) {
	b, _ := json.Marshal(chunk)
	_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
	_ = http.NewResponseController(w).Flush()
}

// bedrockHandler is a local Bedrock Runtime: it refuses requests not
// signed with the example's credentials, as AWS would, and answers
// Converse and ConverseStream.
func bedrockHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := bedrocktest.CheckSignature(r, body, exampleCreds, "us-east-1"); err != nil {
			bedrocktest.WriteError(w, http.StatusForbidden, "InvalidSignatureException", err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		req, err := bedrocktest.ReadRequest(r)
		if err != nil {
			bedrocktest.WriteError(w, http.StatusBadRequest, "ValidationException", err.Error())
			return
		}
		const text = "Bedrock summary: disk full on node 7."
		if !req.Stream {
			bedrocktest.WriteJSON(w, "req-converse", bedrocktest.Answer("end_turn",
				bedrocktest.Usage{InputTokens: 14, OutputTokens: 10}, bedrocktest.Text(text)))
			return
		}
		ev := bedrocktest.NewEvents(w, "req-stream")
		_ = ev.MessageStart()
		for _, piece := range strings.SplitAfter(text, " ") {
			_ = ev.Text(0, piece)
		}
		_ = ev.BlockStop(0)
		_ = ev.MessageStop("end_turn")
		_ = ev.Metadata(bedrocktest.Usage{InputTokens: 14, OutputTokens: 10})
	}
}
