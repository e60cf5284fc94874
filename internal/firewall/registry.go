package firewall

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// Options are the process-level inputs providers need besides the inventory.
type Options struct {
	// Getenv reads the secrets the inventory names; nil means os.Getenv.
	Getenv func(string) string
	// DryRunPath is the dry-run record file when the inventory names none.
	DryRunPath string
}

// A Factory builds one kind of provider from the inventory's settings. The core knows no
// provider but dry-run: each provider package offers its Factory, and the program hands the
// registry those it links in.
type Factory struct {
	// Name is the provider's name in the inventory, e.g. ProviderNFTables.
	Name string
	// New builds the provider. Missing settings or secrets are Permanent errors naming what to
	// set; opts.Getenv is never nil.
	New func(ctx context.Context, s ProviderSettings, opts Options) (Provider, error)
}

// Registry hands out the provider and target for a system, building each provider once.
// It is safe for concurrent use (activities run in parallel).
type Registry struct {
	inv       *Inventory
	opts      Options
	factories map[string]Factory

	mu    sync.Mutex
	built map[string]Provider
}

// NewRegistry returns a registry over inv (nil: no inventory; bare addresses go to dry-run)
// that builds providers with factories; dry-run is always there.
func NewRegistry(inv *Inventory, opts Options, factories ...Factory) *Registry {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	r := &Registry{inv: inv, opts: opts, factories: map[string]Factory{}, built: map[string]Provider{}}
	for _, f := range factories {
		r.factories[f.Name] = f
	}
	r.factories[ProviderDryRun] = Factory{Name: ProviderDryRun, New: newDryRun}
	return r
}

func newDryRun(_ context.Context, s ProviderSettings, opts Options) (Provider, error) {
	path := s.DryRun.Path
	if path == "" {
		path = opts.DryRunPath
	}
	return NewDryRun(path), nil
}

// Inventory returns the registry's inventory.
func (r *Registry) Inventory() *Inventory { return r.inv }

// Resolve resolves system (an inventory name or a bare address) and returns its provider and
// target.
func (r *Registry) Resolve(system string) (Provider, Target, error) {
	s, err := r.inv.Resolve(system)
	if err != nil {
		return nil, Target{}, err
	}
	p, err := r.provider(context.Background(), s.Provider)
	if err != nil {
		return nil, Target{}, fmt.Errorf("system %s: %w", s.Name, err)
	}
	return p, r.inv.targetOf(s), nil
}

// provider returns the named provider, building it on first use. Failures are not cached, so
// a secret set later is picked up on retry.
func (r *Registry) provider(ctx context.Context, name string) (Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.built[name]; ok {
		return p, nil
	}
	f, ok := r.factories[name]
	if !ok {
		return nil, Permanent(fmt.Errorf("the %s firewall provider is not built into this program", name))
	}
	var s ProviderSettings
	if r.inv != nil {
		s = r.inv.Providers
	}
	p, err := f.New(ctx, s, r.opts)
	if err != nil {
		return nil, err
	}
	r.built[name] = p
	return p, nil
}
