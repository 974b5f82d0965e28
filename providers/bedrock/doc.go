// Package bedrock is the llmroute provider adapter for Amazon Bedrock: it
// serves chat and streaming chat through Bedrock's Converse and
// ConverseStream APIs, built on the AWS SDK for Go v2
// (github.com/aws/aws-sdk-go-v2/service/bedrockruntime), so one virtual
// model can route between Bedrock and OpenAI-compatible accounts.
//
// Register one [Provider] per AWS account and region:
//
//	import (
//		"github.com/aws/aws-sdk-go-v2/config"
//		bed "github.com/llmroute/llmroute/providers/bedrock"
//	)
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
//	if err != nil {
//		return err
//	}
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("bedrock-us", bed.New(cfg)),
//	)
//
// A target's model is what Converse takes as modelId: a model id
// ("anthropic.claude-3-5-haiku-20241022-v1:0"), an inference profile id
// ("us.anthropic.claude-3-5-haiku-20241022-v1:0") or an ARN (of an
// inference profile or provisioned throughput); the SDK escapes the "/"
// and ":" of an ARN in the request path. For a VPC endpoint, or a test
// server, set the endpoint with an option function:
//
//	p := bed.New(cfg, func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(url) })
//
// A Provider is safe for concurrent use; build one per account and
// region, and share it. Package bedrocktest serves Bedrock's wire format
// on a loopback server, for tests.
//
// # Retries, timeouts, credentials
//
// The SDK's retries are off, always: each call makes exactly one HTTP
// request, including for throttling and for streams, because the routing
// layer owns retries and fallback. Timeouts belong to the ctx of each
// call. Credentials come from cfg as the SDK resolves them; note that the
// SDK itself switches to Bedrock API key (bearer) authentication when
// AWS_BEARER_TOKEN_BEDROCK is set in the environment, whatever cfg holds.
//
// # Attempts
//
// Each call takes a providers request: the go-openai request as the
// target should see it, and a [providers.Call] with that attempt's
// headers to set and remove and its extra fields. Headers are applied
// just before the request is signed, so they are covered by the SigV4
// signature; the headers the signature itself consists of
// (Authorization, X-Amz-Date, X-Amz-Security-Token,
// X-Amz-Content-Sha256) and Host, Content-Length and Transfer-Encoding
// are the SDK's and cannot be set or removed. Extra fields
// (override_params with no OpenAI request field, such as top_k) are sent
// as Converse's additionalModelRequestFields, which Bedrock passes to the
// model.
//
// # Requests
//
// An OpenAI chat request becomes a Converse request:
//
//   - system and developer messages become system blocks, in order,
//     wherever they stand; user, assistant and tool messages become
//     turns, consecutive turns of one role merged into one (a tool
//     message is a user turn holding a toolResult block), as Converse
//     requires turns to alternate. Text that is empty or only white space
//     is left out, as Bedrock refuses blank text; a message with nothing
//     else adds nothing. Message names and the reasoning of earlier
//     assistant turns (which Bedrock accepts only signed) are not sent.
//   - images: a base64 data URL (png, jpeg, gif, webp) is sent as bytes,
//     an s3:// URL as an S3 location (its format from the extension);
//     an http(s) URL is refused, as Converse fetches nothing.
//   - tools become toolConfig with the caller's JSON schema (a tool with
//     no parameters gets an empty object schema); assistant tool calls
//     become toolUse blocks, whose arguments must be a JSON object.
//     Numbers in schemas and arguments are sent exactly as written.
//   - tool_choice: "auto" is Converse's default and is not sent (some
//     models refuse any toolChoice); "required" is "any"; a named function
//     is "tool". Converse has no "none": with "none" no tools are sent,
//     unless the conversation already holds tool calls or results, which
//     Bedrock accepts only alongside the tools; then the tools are sent
//     without a choice, and a tool call the model still makes is returned
//     as usual.
//   - max_completion_tokens (else max_tokens), temperature, top_p and stop
//     go in inferenceConfig (a temperature or top_p of 0 is not sent: as
//     on go-openai's own wire, 0 means unset); response_format json_schema
//     becomes Bedrock's structured output, reasoning_effort its effort
//     (passed as given), metadata its requestMetadata.
//
// Refused before sending, with a [*providers.Error] of Status 400 and Code
// [CodeClientValidation] whose message names the field: n > 1, logprobs,
// top_logprobs, logit_bias, legacy functions and function_call,
// prediction, guided_choice, response_format json_object, http(s) image
// URLs, malformed tool arguments or schemas, unknown roles and part
// types, tool_choice "required" or a named tool without tools, and tool
// calls in the conversation without tools. Sampling hints Converse has no
// field for are not sent: seed, presence_penalty, frequency_penalty,
// parallel_tool_calls, user, store, service_tier, verbosity,
// safety_identifier and chat_template_kwargs (a model that takes one of
// them can get it through override_params).
//
// # Responses
//
// The answer's text blocks are joined into the message content, its
// reasoning text is ReasoningContent, and its toolUse blocks are tool
// calls, in order. The response ID is Bedrock's request id, and Model is
// the model asked for (Converse does not name one). Stop reasons map to
// finish reasons: end_turn and stop_sequence are "stop", max_tokens and
// model_context_window_exceeded "length", tool_use "tool_calls",
// guardrail_intervened and content_filtered "content_filter"; a stop
// reason this package does not know is passed on as it is. An output
// Bedrock could not parse (malformed_model_output, malformed_tool_use) is
// an error, Status 502 with that Code: passing a broken tool call on
// would hide the failure.
//
// Usage: Bedrock counts tokens read from and written to the prompt cache
// apart from inputTokens. PromptTokens counts every input token, as
// OpenAI's does: inputTokens plus both cache counts; the cache reads are
// PromptTokensDetails.CachedTokens (set when Bedrock reported cache use);
// TotalTokens is PromptTokens plus CompletionTokens.
//
// # Streaming
//
// [Provider.ChatStream] returns when the response headers arrive. Its
// stream turns ConverseStream events into go-openai chunks: messageStart
// is a chunk with the assistant role; text and reasoning deltas are
// content and reasoning chunks; a toolUse block start is a tool call
// chunk with its id and name, and its input deltas are argument chunks
// with the same index (tool calls are numbered from 0 in order of their
// blocks); messageStop is a chunk with the finish reason; the metadata
// event after it is a usage chunk with no choices, sent only when the
// request asked for it (stream_options.include_usage), as OpenAI does.
// Every chunk has the request id as ID and the model asked for.
//
// Recv returns:
//
//   - io.EOF once messageStop has arrived and the stream has ended. When
//     the stream ends after messageStop but without the metadata event,
//     the answer is complete and Recv returns io.EOF all the same, with no
//     usage chunk; so does a failure after messageStop.
//   - a *providers.Error with Status 502 and Code [CodeStreamTruncated]
//     when the stream ends, or the connection breaks, before messageStop.
//     Never io.EOF: the SDK itself ends the events quietly when the
//     connection closes early, so this package tracks messageStop.
//   - a *providers.Error for an exception in the stream
//     (throttlingException, modelStreamErrorException,
//     internalServerException, serviceUnavailableException,
//     validationException), with the status of that exception, as below.
//   - a *providers.Error with Status 502 and Code [CodeMalformedEvent] for
//     an event that cannot be decoded, or tool input for a block that
//     never started as a tool use.
//   - the ctx errors below once ctx is done; an error matching
//     providers.ErrStreamClosed after Close. Once messageStop has arrived
//     the answer is whole, and a ctx that ends before the metadata event
//     still ends the stream with io.EOF.
//
// Close stops the upstream request (it closes the event stream and the
// response body), unblocks a Recv waiting on another goroutine, and
// returns once the SDK's reader goroutines have ended. A done ctx does
// the same by itself, so those goroutines end with the call even if the
// caller never calls Close.
//
// # Errors
//
// Every failure is a [*providers.Error], translated in one place:
//
//   - a Bedrock exception keeps its name as Code and Type, and gets the
//     status: ThrottlingException and ModelNotReadyException 429,
//     ModelTimeoutException 408, ModelErrorException and
//     ModelStreamErrorException 502 (424 on the wire: a bad upstream
//     answer, retried and fallen back from by default),
//     ServiceUnavailableException 503, InternalServerException 500,
//     AccessDeniedException 403, ResourceNotFoundException 404,
//     ValidationException, ServiceQuotaExceededException and
//     ConflictException 400, any other its HTTP status (502 in a stream).
//     An input too long for the model is Status 400 with Code
//     "context_length_exceeded" ([CodeContextLengthExceeded]), recognised
//     by the wording Bedrock and its models use. The message carries the
//     request id; RetryAfter comes from a Retry-After header.
//   - an error response that is not a Bedrock exception (a proxy's page):
//     its status; 1xx and 3xx are 502 with Code [CodeUnexpectedStatus].
//   - credentials that cannot be had: 401 with Code
//     [CodeCredentialsUnavailable], nothing sent.
//   - the call's ctx deadline passed: 408 ([providers.StatusTimeout])
//     matching context.DeadlineExceeded; cancelled: ctx.Err() itself. An
//     error response that arrived in full first keeps its own status.
//   - no response at all (refused, reset): 502; a timeout of the HTTP
//     client: 408.
//
// Credentials never appear in an error: the access key id, session token
// or bearer token on the signed request, and anything shaped like an AWS
// access key id, are replaced by "[REDACTED]" in messages and in the text
// of every error in the chain. The secret access key is never sent, so no
// server can echo it.
package bedrock
