package simulate_test

import (
	"context"
	"fmt"
	"os"

	"github.com/llmroute/llmroute/simulate"
)

func ExampleRun() {
	manifest := []byte(`
name: support-bot
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: azure-main/gpt-4o, priority: 0, retry_config: {attempts: 0}}
        - {target: openai-main/gpt-4o, priority: 1}
`)
	// Ten calls a minute apart; the primary is down for the fourth.
	sc, err := simulate.ParseScenario([]byte(`
requests: 10
interval: 1m
targets:
  azure-main/gpt-4o:
    latency: {fixed_ms: 200}
    windows:
      - {kind: outage, from: 3m, to: 3m30s}
  openai-main/gpt-4o:
    latency: {fixed_ms: 300}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := simulate.Run(context.Background(), manifest, sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.WriteTable(os.Stdout)
	// Output:
	// virtual model support-bot/chat (priority-based-routing), seed 0
	// 10 calls over 9m of virtual time, at most 1 at once; 11 upstream tries (1.10 a call)
	//
	// TARGET              SERVED  SHARE  ATTEMPTS  RETRIES  FALLBACKS  PROBES  ERRORS  P50    P99    FAILED TRIES
	// azure-main/gpt-4o        9  90.0%        10        0          0       0       1  200ms  200ms  503×1
	// openai-main/gpt-4o       1  10.0%         1        0          1       0       0  300ms  300ms  -
	//
	// callers: 10 calls, 0 failed (0.0%); end-to-end p50 200ms, p99 350ms
}
