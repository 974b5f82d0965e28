package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time: each deployment's
// calls go to its region's target, a request's own region wins over the
// deployment's, and with the EU target down the EU call fails without
// touching any other target.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		for _, re := range []string{
			`(?m)^deployment with tfy_gateway_region=US:\n(  call \d: global-app/chat → azure-us/gpt-4o, 1 attempt\n.*\n(    skipped \S+: ineligible\n){2}){3}\n`,
			`(?m)^deployment with tfy_gateway_region=EU:\n(  call \d: global-app/chat → azure-eu/gpt-4o, 1 attempt\n.*\n(    skipped \S+: ineligible\n){2}){3}\n`,
			`(?m)^deployment with tfy_gateway_region=APAC:\n(  call \d: global-app/chat → openai-main/gpt-4o, 1 attempt\n.*\n(    skipped \S+: ineligible\n){2}){3}\n`,
			`(?m)^US deployment, request metadata tfy_gateway_region=EU:\n  call 1: global-app/chat → azure-eu/gpt-4o, 1 attempt$`,
			`(?m)^azure-eu down \(503\); EU deployment:\n  call 1: global-app/chat: not served, 3 attempts\n(    azure-eu/gpt-4o\s+try \d\s+503\s.*status 503.*\n){3}(    skipped \S+: ineligible\n){2}\n`,
			`(?m)^every call went to its region's target: US 3/3 on azure-us/gpt-4o, EU 3/3 on azure-eu/gpt-4o, APAC 3/3 on openai-main/gpt-4o; with azure-eu down the EU call stayed in the EU$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
