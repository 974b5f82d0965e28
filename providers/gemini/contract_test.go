package gemini_test

import (
	"net/http"
	"testing"

	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/providertest"
)

// contractModel is the model every call of the suite asks for, chat and
// embeddings alike. A name with "gemini" in it would make genai use
// Vertex AI's embedContent method, which takes one input per call.
const contractModel = "gemma-3-27b-it"

// TestContract runs the contract suite against the Gemini API.
//
// The Gemini API's batchEmbedContents answer carries no token usage (and
// genai keeps none of it), while the suite's embeddings answer expects the
// prompt tokens back; so the suite's embedding calls go to Vertex AI,
// whose answer reports them. Gemini API embeddings are tested in
// embed_test.go.
func TestContract(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			if b.Embed {
				return vertexFor(t, providertest.Serve(t, vertexWire{}, b).URL)
			}
			return providerFor(t, providertest.Serve(t, geminiWire{}, b).URL)
		},
		Key:   testKey,
		Model: contractModel,
	})
}

// TestContractVertex runs the contract suite against Vertex AI (express
// mode: the same key header, Vertex's paths and embeddings method).
func TestContractVertex(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			return vertexFor(t, providertest.Serve(t, vertexWire{}, b).URL)
		},
		Key:   testKey,
		Model: contractModel,
	})
}

// vertexFor returns a Vertex AI express-mode provider for a server's URL.
func vertexFor(t testing.TB, url string) providers.Provider {
	t.Helper()
	return newProviderWith(t, &genai.ClientConfig{Backend: genai.BackendVertexAI, APIKey: testKey,
		HTTPClient: &http.Client{Transport: testTransport(t)}, HTTPOptions: genai.HTTPOptions{BaseURL: url}})
}
