package routing_test

import (
	"fmt"

	"github.com/llmroute/llmroute/routing"
)

func ExampleParseManifest() {
	manifest := []byte(`
name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          priority: 0
          retry_config: {attempts: 1, delay: 250}
        - target: openai-main/gpt-4o
          priority: 1
          fallback_candidate: false
`)
	groups, err := routing.ParseManifest(manifest)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range groups {
		for _, m := range g.Models {
			fmt.Printf("%s/%s (%s) %v\n", g.Name, m.Name, m.Routing.Type, m.ModelTypes)
			for _, t := range m.Routing.Targets {
				fmt.Printf("  %s priority %d, %d retries after %v, fallback candidate %v\n",
					t.Ref, t.Priority, t.Retry.Attempts, t.Retry.Delay, !t.NoFallback)
			}
		}
	}
	// Output:
	// booking-app/gpt-prod (priority-based-routing) [chat]
	//   azure-main/gpt-4o priority 0, 1 retries after 250ms, fallback candidate true
	//   openai-main/gpt-4o priority 1, 2 retries after 100ms, fallback candidate false
}

// Every problem is reported at once, with its line.
func ExampleParseManifest_errors() {
	_, err := routing.ParseManifest([]byte(`
name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          weight: 90
        - target: openai-main/gpt-4o
          priority: 1
          retry_config: {attemps: 3}
`))
	fmt.Println(err)
	// Output:
	// config: 3 problems:
	// 	line 12: group "booking-app": integrations[0].routing_config.load_balance_targets[1].weight: required for weight-based-routing
	// 	line 13: group "booking-app": integrations[0].routing_config.load_balance_targets[1].priority: applies only to priority-based-routing
	// 	line 14: group "booking-app": integrations[0].routing_config.load_balance_targets[1].retry_config.attemps: unknown key "attemps" (did you mean "attempts"?)
}

// MarshalManifest shows what a manifest means: every default is written out.
func ExampleMarshalManifest() {
	groups, err := routing.ParseManifest([]byte(`{
  "name": "booking-app",
  "type": "provider-account/virtual-model",
  "integrations": [{
    "name": "gpt-prod",
    "type": "integration/model/virtual",
    "routing_config": {
      "type": "weight-based-routing",
      "load_balance_targets": [
        {"target": "azure-main/gpt-4o", "weight": 90},
        {"target": "openai-main/gpt-4o", "weight": 10, "override_params": {"temperature": 0.2}}
      ]
    }
  }]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := routing.MarshalManifest(groups)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// name: booking-app
	// type: provider-account/virtual-model
	// collaborators: []
	// integrations:
	//   - name: gpt-prod
	//     type: integration/model/virtual
	//     model_types: [chat]
	//     routing_config:
	//       type: weight-based-routing
	//       load_balance_targets:
	//         - target: azure-main/gpt-4o
	//           weight: 90
	//           retry_config:
	//             attempts: 2
	//             delay: 100
	//             on_status_codes: ["429", "500", "502", "503"]
	//           fallback_status_codes: ["401", "403", "404", "429", "500", "502", "503"]
	//           fallback_candidate: true
	//         - target: openai-main/gpt-4o
	//           weight: 10
	//           retry_config:
	//             attempts: 2
	//             delay: 100
	//             on_status_codes: ["429", "500", "502", "503"]
	//           fallback_status_codes: ["401", "403", "404", "429", "500", "502", "503"]
	//           fallback_candidate: true
	//           override_params:
	//             temperature: 0.2
}

// A Manifest checks its groups against the provider accounts a program
// has, and locates each problem.
func ExampleManifest_Validate() {
	m, err := routing.LoadManifest([]byte(`
name: booking-app
type: provider-account/virtual-model
integrations:
  - name: embed
    type: integration/model/virtual
    model_types: [embedding]
    routing_config:
      type: latency-based-routing
      load_balance_targets:
        - target: openai-main/text-embedding-3-small
        - target: onprem/bge-large
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = m.Validate(routing.Accounts{"openai-main": full{}}, nil)
	fmt.Println(err)
	// Output:
	// config: line 12: group "booking-app": integrations[0].routing_config.load_balance_targets[1].target: unknown provider account "onprem" (register it with routing.WithProvider)
}
