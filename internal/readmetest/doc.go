// Package readmetest holds no code: its test builds and runs the README's
// quickstart exactly as written, against loopback servers speaking the
// OpenAI and Azure OpenAI wire format, so the first program a newcomer
// pastes keeps working.
//
//	go test ./internal/readmetest
package readmetest
