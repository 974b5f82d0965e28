package routing

import "context"

// WithManifest adds the groups of a manifest in the gateway's YAML or JSON
// format (see Manifests in the package documentation). Problems in it are
// reported by New, each with its path and line.
func WithManifest(data []byte) Option {
	return func(s *settings) {
		m, err := loadManifest(data)
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.groups = append(s.groups, m.Groups...)
		s.manifests = append(s.manifests, m)
	}
}

// ApplyManifest atomically replaces the groups a manifest names (and adds
// new ones) while the Client serves calls. Each group that has
// collaborators may be changed only by its Manager (or a Client admin), per
// the subject in ctx. A manifest with any problem changes nothing. Calls in
// flight finish on the configuration they started with.
func (c *Client) ApplyManifest(ctx context.Context, data []byte) error {
	m, err := loadManifest(data)
	if err != nil {
		return err
	}
	return m.Annotate(c.apply(ctx, m.Groups, m))
}
