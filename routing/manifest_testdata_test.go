package routing_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
)

// Every manifest in testdata (one per common pattern) loads, validates
// against accounts covering every account it names, and survives a trip
// through Marshal unchanged.
func TestTestdata(t *testing.T) {
	data := testdata(t)
	for _, name := range sortedNames(data) {
		t.Run(name, func(t *testing.T) {
			groups, err := routing.ParseManifest(data[name])
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if err := routing.ValidateGroups(groups, accountsFor(groups), nil); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			roundTrip(t, groups)
		})
	}
}

// The environment-specific virtual models are where their names say.
func TestTestdataEnvironments(t *testing.T) {
	groups, err := routing.ParseManifest(testdata(t)["environments.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		for _, m := range g.Models {
			got = append(got, g.Name+"/"+m.Name+" "+m.Slug)
		}
	}
	want := []string{"booking-app/gpt-prod booking-gpt", "booking-app/gpt-dev booking-gpt-dev", "booking-app-search/embed "}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("models (-got +want):\n%s", diff)
	}
}
