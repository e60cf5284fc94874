package firewall

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Options are the process-level inputs providers need besides the inventory.
type Options struct {
	// Getenv reads secrets named in the inventory; nil means os.Getenv.
	Getenv func(string) string
	// HTTPClient is the base client for the OPNsense and webhook providers; nil means one with
	// a 30 s timeout.
	HTTPClient *http.Client
	// DryRunPath is the dry-run record file when the inventory names none.
	DryRunPath string
	// EC2Options adjust the EC2 client (tests: static credentials, short retry delays).
	EC2Options []func(*ec2.Options)
	// Now returns the current time for evidence; nil means time.Now.
	Now func() time.Time
}

// New builds the named provider from the inventory's settings. Missing settings or secrets
// are Permanent errors naming what to set.
func New(ctx context.Context, inv *Inventory, provider string, opts Options) (Provider, error) {
	var s ProviderSettings
	if inv != nil {
		s = inv.Providers
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch provider {
	case ProviderDryRun:
		path := s.DryRun.Path
		if path == "" {
			path = opts.DryRunPath
		}
		return &DryRun{Path: path, Now: opts.Now}, nil
	case ProviderNFTables:
		p, err := NewNFTables(s.NFTables)
		if err != nil {
			return nil, err
		}
		p.Now = opts.Now
		return p, nil
	case ProviderAWS:
		p, err := NewAWS(ctx, s.AWS, opts.EC2Options...)
		if err != nil {
			return nil, err
		}
		p.Now = opts.Now
		return p, nil
	case ProviderOPNsense:
		keyEnv, secretEnv := orDefault(s.OPNsense.KeyEnv, DefaultOPNsenseKeyEnv), orDefault(s.OPNsense.SecretEnv, DefaultOPNsenseSecretEnv)
		key, secret := getenv(keyEnv), getenv(secretEnv)
		if key == "" || secret == "" {
			return nil, Permanent(fmt.Errorf("opnsense firewall: set %s and %s to the API key and secret", keyEnv, secretEnv))
		}
		p, err := NewOPNsense(s.OPNsense.URL, key, secret, opts.HTTPClient, s.OPNsense.CAFile)
		if err != nil {
			return nil, err
		}
		p.Now = opts.Now
		return p, nil
	case ProviderWebhook:
		env := orDefault(s.Webhook.SecretEnv, DefaultWebhookSecretEnv)
		secret := getenv(env)
		if secret == "" {
			return nil, Permanent(fmt.Errorf("webhook firewall: set %s to the signing secret", env))
		}
		p, err := NewWebhook(s.Webhook.URL, []byte(secret), opts.HTTPClient)
		if err != nil {
			return nil, err
		}
		p.Now = opts.Now
		return p, nil
	default:
		return nil, Permanent(fmt.Errorf("unknown firewall provider %q; use one of %v", provider, ProviderNames))
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Registry hands out the provider and target for a system, building each provider once.
// It is safe for concurrent use (activities run in parallel).
type Registry struct {
	inv  *Inventory
	opts Options

	mu    sync.Mutex
	built map[string]Provider
}

// NewRegistry returns a registry over inv (nil: no inventory; bare addresses go to dry-run).
func NewRegistry(inv *Inventory, opts Options) *Registry {
	return &Registry{inv: inv, opts: opts, built: map[string]Provider{}}
}

// Inventory returns the registry's inventory.
func (r *Registry) Inventory() *Inventory { return r.inv }

// For resolves system (an inventory name or a bare address) and returns its provider and
// target.
func (r *Registry) For(ctx context.Context, system string) (Provider, Target, error) {
	s, err := r.inv.Resolve(system)
	if err != nil {
		return nil, Target{}, err
	}
	p, err := r.Provider(ctx, s.Provider)
	if err != nil {
		return nil, Target{}, fmt.Errorf("system %s: %w", s.Name, err)
	}
	return p, r.inv.TargetOf(s), nil
}

// Resolve is For without a context, matching the activities' Firewalls interface.
func (r *Registry) Resolve(system string) (Provider, Target, error) {
	return r.For(context.Background(), system)
}

// Provider returns the named provider, building it on first use. Failures are not cached, so
// a secret set later is picked up on retry.
func (r *Registry) Provider(ctx context.Context, name string) (Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.built[name]; ok {
		return p, nil
	}
	p, err := New(ctx, r.inv, name, r.opts)
	if err != nil {
		return nil, err
	}
	r.built[name] = p
	return p, nil
}
