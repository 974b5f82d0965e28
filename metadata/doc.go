// Package metadata carries request metadata, a string→string map used by
// metadata_match routing (see docs/behaviour.md, Metadata).
//
// Metadata reaches a request in one of two ways: code puts an [MD] in the
// context with [NewContext], or a server reads the x-tfy-metadata header
// and turns it into an MD with [Parse]. Client-wide defaults sit under the
// request's own metadata via [Merge], the request winning on conflicts.
// A target's metadata_match is satisfied when [MD.Matches] reports true;
// [MD.Unmet] names the keys that are missing or different, for errors.
//
// Usage:
//
//	md, err := metadata.Parse(r.Header.Get(metadata.Header))
//	if err != nil {
//		http.Error(w, err.Error(), http.StatusBadRequest)
//		return
//	}
//	ctx := metadata.NewContext(r.Context(), md)
//	// later, while routing:
//	md, _ = metadata.FromContext(ctx)
//	md = metadata.Merge(defaults, md)
//	if md.Matches(target.MetadataMatch) { ... }
//
// Keys and values are compared exactly: case-sensitive, no trimming.
//
// Parse accepts only a JSON object of string values, with at most
// [MaxKeys] keys, each key non-empty and at most [MaxKeyLen] characters,
// each value at most [MaxValueLen] characters, and no key twice. The
// header arrives from callers, so these bounds keep a request from
// carrying an unbounded map into every routing decision.
package metadata
