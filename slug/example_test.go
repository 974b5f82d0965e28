package slug_test

import (
	"fmt"

	"github.com/llmroute/llmroute/slug"
)

func ExampleValidName() {
	for _, name := range []string{"support-bot", "Ab", "team_"} {
		fmt.Println(slug.ValidName(name))
	}
	// Output:
	// <nil>
	// slug: "Ab" must start with a lowercase letter
	// slug: "team_" must end with a lowercase letter or digit
}

func ExampleValidSlug() {
	fmt.Println(slug.ValidSlug("GPT-4o.mini"))
	fmt.Println(slug.ValidSlug("gpt/4o"))
	// Output:
	// <nil>
	// slug: "gpt/4o" contains '/' at byte 3; only letters, digits, '-', '.' and '_' may appear inside
}

func ExampleParseRef() {
	ref, err := slug.ParseRef("openrouter/meta-llama/llama-3")
	if err != nil {
		panic(err)
	}
	fmt.Println(ref.Account)
	fmt.Println(ref.Model)
	fmt.Println(ref)

	_, err = slug.ParseRef("gpt-4o")
	fmt.Println(err)
	// Output:
	// openrouter
	// meta-llama/llama-3
	// openrouter/meta-llama/llama-3
	// slug: "gpt-4o" has no '/'; want "prefix/model"
}
