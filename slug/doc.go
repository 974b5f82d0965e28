// Package slug validates the names llmroute accepts and parses model
// references.
//
// Three spellings occur (see docs/behaviour.md, Names and slugs):
//
//   - a name, for a group or a virtual model: 3–64 characters, a lowercase
//     letter first, then lowercase letters, digits, '-' or '_', and a
//     lowercase letter or digit last; checked by [ValidName];
//   - a slug, a short global alias for one virtual model: 2–62 characters,
//     an ASCII letter first, then letters, digits, '-', '.' or '_', and a
//     letter or digit last; checked by [ValidSlug];
//   - a reference "prefix/model", a [Ref]: Account/Model for a target,
//     Group/Model for a virtual model; split by [ParseRef].
//
// The validators run when a configuration is loaded, so their errors say
// what is wrong in words a user can act on. ParseRef runs on every call and
// does not allocate beyond its result.
//
// Usage:
//
//	if err := slug.ValidName(group); err != nil {
//		return fmt.Errorf("group %d: %w", i, err)
//	}
//	ref, err := slug.ParseRef("openrouter/meta-llama/llama-3")
//	// ref.Account == "openrouter", ref.Model == "meta-llama/llama-3"
//
// All functions are safe for concurrent use. Errors are plain errors whose
// text begins "slug: "; input is quoted in them and cut to at most 80
// characters.
package slug
