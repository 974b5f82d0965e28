package metadata_test

import (
	"context"
	"fmt"

	"github.com/llmroute/llmroute/metadata"
)

func ExampleParse() {
	md, err := metadata.Parse(`{"tier":"enterprise","tfy_gateway_region":"US"}`)
	fmt.Println(md, err)

	_, err = metadata.Parse(`{"tier":"enterprise","seats":40}`)
	fmt.Println(err)
	// Output:
	// map[tfy_gateway_region:US tier:enterprise] <nil>
	// metadata: value of key "seats" is a number, want a string
}

func ExampleNewContext() {
	ctx := metadata.NewContext(context.Background(), metadata.MD{"tier": "enterprise"})

	md, ok := metadata.FromContext(ctx)
	fmt.Println(md["tier"], ok)
	// Output:
	// enterprise true
}

func ExampleMerge() {
	defaults := metadata.MD{"tfy_gateway_region": "US", "team": "platform"}
	request := metadata.MD{"team": "search"}

	fmt.Println(metadata.Merge(defaults, request))
	// Output:
	// map[team:search tfy_gateway_region:US]
}

func ExampleMD_Matches() {
	md := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "EU"}

	fmt.Println(md.Matches(metadata.MD{"tier": "enterprise"}))
	fmt.Println(md.Matches(metadata.MD{"tfy_gateway_region": "US"}))
	// Output:
	// true
	// false
}

func ExampleMD_Unmet() {
	md := metadata.MD{"tier": "free"}
	want := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}

	fmt.Println(md.Unmet(want))
	// Output:
	// [tfy_gateway_region tier]
}
