package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/breachops/breach/internal/firewall/nftspec"
)

type rawInventory struct {
	Defaults  Defaults         `yaml:"defaults"`
	Providers ProviderSettings `yaml:"providers"`
	Systems   []System         `yaml:"systems"`
}

var (
	systemName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	aliasName  = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// inventoryParser checks a decoded inventory against its YAML, so that every error names the
// line and the field at fault. Its errors are Permanent.
type inventoryParser struct {
	where  string // "inventory" and the file's path
	root   yaml.Node
	inv    *Inventory
	chains map[string]string // nftables chain name -> the system it belongs to
	used   map[string]bool   // the providers some system (or the default) uses
}

// parseInventory parses and validates an inventory read from path ("" when it comes from
// elsewhere).
func parseInventory(path string, b []byte) (*Inventory, error) {
	p := &inventoryParser{where: "inventory", chains: map[string]string{}, used: map[string]bool{}}
	if path != "" {
		p.where = "inventory " + path
	}
	raw, err := p.decode(b)
	if err != nil {
		return nil, err
	}
	p.inv = &Inventory{Defaults: raw.Defaults, Providers: raw.Providers, systems: map[string]System{}}
	if err := p.checkDefaults(raw); err != nil {
		return nil, err
	}
	for i, s := range raw.Systems {
		if err := p.addSystem(i, s); err != nil {
			return nil, err
		}
	}
	p.used[p.inv.defaultProvider()] = true
	slices.Sort(p.inv.names)
	if err := p.checkProviders(raw.Providers); err != nil {
		return nil, err
	}
	return p.inv, nil
}

func (p *inventoryParser) fail(line int, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		return Permanent(fmt.Errorf("%s: line %d: %s: %s", p.where, line, field, msg))
	}
	return Permanent(fmt.Errorf("%s: %s: %s", p.where, field, msg))
}

func (p *inventoryParser) line(path ...any) int { return nodeLine(&p.root, path...) }

// decode reads the one YAML document of the inventory, refusing unknown fields.
func (p *inventoryParser) decode(b []byte) (rawInventory, error) {
	var raw rawInventory
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return raw, Permanent(fmt.Errorf("%s: empty file; list the systems under \"systems:\"", p.where))
		}
		return raw, Permanent(fmt.Errorf("%s: %s", p.where, yamlErrorText(err)))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return raw, p.fail(more.Line, "document", "more than one YAML document; keep the inventory in one")
	}
	_ = yaml.Unmarshal(b, &p.root) // already decoded once: cannot fail
	return raw, nil
}

func (p *inventoryParser) checkDefaults(raw rawInventory) error {
	if d := raw.Defaults.Provider; d != "" && !slices.Contains(providerNames, d) {
		return p.fail(p.line("defaults", "provider"), "defaults.provider", "unknown provider %q; use one of %s", d, strings.Join(providerNames, ", "))
	}
	for i, a := range raw.Defaults.Allow {
		if err := checkAllow(a); err != nil {
			return p.fail(p.line("defaults", "allow", i), fmt.Sprintf("defaults.allow[%d]", i), "%v", err)
		}
		raw.Defaults.Allow[i] = CanonicalAddress(a)
	}
	for i, h := range raw.Providers.NFTables.Hooks {
		if !nftspec.ValidHook(h) {
			return p.fail(p.line("providers", "nftables", "hooks", i), fmt.Sprintf("providers.nftables.hooks[%d]", i), "unknown hook %q; use input, forward or output", h)
		}
	}
	return nil
}

// systemField names a field of the i-th system in errors: systems[1] (db-1).allow[0].
func systemField(i int, s System, name string, idx ...int) string {
	f := fmt.Sprintf("systems[%d]", i)
	if s.Name != "" {
		f += fmt.Sprintf(" (%s)", s.Name)
	}
	if name != "" {
		f += "." + name
	}
	for _, j := range idx {
		f += fmt.Sprintf("[%d]", j)
	}
	return f
}

// addSystem checks the i-th system and adds it to the inventory.
func (p *inventoryParser) addSystem(i int, s System) error {
	at := func(path ...any) int { return p.line(append([]any{"systems", i}, path...)...) }
	field := func(name string, idx ...int) string { return systemField(i, s, name, idx...) }
	if err := p.checkSystemName(s, at, field); err != nil {
		return err
	}
	if s.Provider == "" {
		s.Provider = p.inv.defaultProvider()
	} else if !slices.Contains(providerNames, s.Provider) {
		return p.fail(at("provider"), field("provider"), "unknown provider %q; use one of %s", s.Provider, strings.Join(providerNames, ", "))
	}
	// Kept canonical: IPv4-mapped addresses as the IPv4 they are, for every provider.
	for j, a := range s.Addresses {
		if err := CheckAddress(a); err != nil {
			return p.fail(at("addresses", j), field("addresses", j), "%v", err)
		}
		s.Addresses[j] = CanonicalAddress(a)
	}
	for j, a := range s.Allow {
		if err := checkAllow(a); err != nil {
			return p.fail(at("allow", j), field("allow", j), "%v", err)
		}
		s.Allow[j] = CanonicalAddress(a)
	}
	if err := p.checkSystemTarget(s, at, field); err != nil {
		return err
	}
	p.used[s.Provider] = true
	p.inv.systems[s.Name] = s
	p.inv.names = append(p.inv.names, s.Name)
	return nil
}

func (p *inventoryParser) checkSystemName(s System, at func(...any) int, field func(string, ...int) string) error {
	if s.Name == "" {
		return p.fail(at(), field("name"), "missing; every system needs a name")
	}
	if !systemName.MatchString(s.Name) {
		return p.fail(at("name"), field("name"), "%q: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", s.Name)
	}
	if isAddress(s.Name) {
		return p.fail(at("name"), field("name"), "%q looks like an address; name the system and list the address under addresses", s.Name)
	}
	if _, dup := p.inv.systems[s.Name]; dup {
		return p.fail(at("name"), field("name"), "duplicate system name %q", s.Name)
	}
	chain := nftspec.Chain(s.Name, "input")
	if other, ok := p.chains[chain]; ok {
		return p.fail(at("name"), field("name"), "%q and %q map to the same firewall chain %s; rename one", other, s.Name, chain)
	}
	p.chains[chain] = s.Name
	return nil
}

// checkSystemTarget checks that the system names what its provider isolates.
func (p *inventoryParser) checkSystemTarget(s System, at func(...any) int, field func(string, ...int) string) error {
	switch s.Provider {
	case ProviderDryRun, ProviderNFTables, ProviderOPNsense:
		if len(s.Addresses) == 0 {
			return p.fail(at(), field("addresses"), "missing; the %s provider isolates IP addresses or CIDRs", s.Provider)
		}
	case ProviderAWS:
		if s.InstanceID == "" {
			return p.fail(at(), field("instance_id"), "missing; the aws provider isolates an EC2 instance (i-...)")
		}
	case ProviderWebhook:
		if len(s.Addresses) == 0 && s.InstanceID == "" {
			return p.fail(at(), field("addresses"), "missing; the webhook provider needs addresses or an instance_id to send")
		}
	}
	if s.InstanceID != "" && !instanceID.MatchString(s.InstanceID) {
		return p.fail(at("instance_id"), field("instance_id"), "%q is not an EC2 instance id (i- followed by 8 or 17 hex digits)", s.InstanceID)
	}
	if s.Alias != "" && !aliasName.MatchString(s.Alias) {
		return p.fail(at("alias"), field("alias"), "%q: an alias name is letters, digits and '_', at most 32", s.Alias)
	}
	if s.Provider == ProviderOPNsense && s.Alias == "" && p.inv.Providers.OPNsense.Alias == "" {
		return p.fail(at(), field("alias"), "missing; set it here or as providers.opnsense.alias")
	}
	return nil
}

// checkProviders checks the settings of the providers, requiring what the providers in use need.
func (p *inventoryParser) checkProviders(s ProviderSettings) error {
	if p.used[ProviderAWS] {
		if s.AWS.Region == "" {
			return p.fail(p.line("providers", "aws"), "providers.aws.region", "missing; the aws provider needs a region")
		}
		if s.AWS.QuarantineGroup == "" {
			return p.fail(p.line("providers", "aws"), "providers.aws.quarantine_group", "missing; name the quarantine security group (sg-... or a group name)")
		}
	}
	if err := checkURL(s.AWS.Endpoint); err != nil {
		return p.fail(p.line("providers", "aws", "endpoint"), "providers.aws.endpoint", "%v", err)
	}
	if s.AWS.VPC != "" && !strings.HasPrefix(s.AWS.VPC, "vpc-") {
		return p.fail(p.line("providers", "aws", "vpc"), "providers.aws.vpc", "%q is not a VPC id (vpc-...)", s.AWS.VPC)
	}
	if p.used[ProviderOPNsense] && s.OPNsense.URL == "" {
		return p.fail(p.line("providers", "opnsense"), "providers.opnsense.url", "missing; the opnsense provider needs the firewall's base URL")
	}
	if err := checkURL(s.OPNsense.URL); err != nil {
		return p.fail(p.line("providers", "opnsense", "url"), "providers.opnsense.url", "%v", err)
	}
	if a := s.OPNsense.Alias; a != "" && !aliasName.MatchString(a) {
		return p.fail(p.line("providers", "opnsense", "alias"), "providers.opnsense.alias", "%q: an alias name is letters, digits and '_', at most 32", a)
	}
	if p.used[ProviderWebhook] && s.Webhook.URL == "" {
		return p.fail(p.line("providers", "webhook"), "providers.webhook.url", "missing; the webhook provider needs the URL to post to")
	}
	if err := checkURL(s.Webhook.URL); err != nil {
		return p.fail(p.line("providers", "webhook", "url"), "providers.webhook.url", "%v", err)
	}
	return p.checkSecretNames(s)
}

// checkSecretNames checks that the inventory names environment variables, not secrets.
func (p *inventoryParser) checkSecretNames(s ProviderSettings) error {
	for _, e := range []struct{ provider, field, v string }{
		{"opnsense", "key_env", s.OPNsense.KeyEnv}, {"opnsense", "secret_env", s.OPNsense.SecretEnv}, {"webhook", "secret_env", s.Webhook.SecretEnv},
	} {
		if e.v != "" && !envName.MatchString(e.v) {
			// The value is not repeated: what is here instead of a name is often the secret.
			return p.fail(p.line("providers", e.provider, e.field), "providers."+e.provider+"."+e.field,
				"not an environment variable name (letters, digits and _); secrets stay out of the inventory, name the variable that holds them")
		}
	}
	return nil
}

// checkURL accepts no URL, an https URL, or an http one to a loopback address (see requireTLS).
func checkURL(s string) error {
	if s == "" {
		return nil
	}
	return requireTLS(s)
}

// nodeLine returns the line of the node at path (mapping keys as strings, sequence indexes as
// ints), or of the deepest node on the path that exists.
func nodeLine(root *yaml.Node, path ...any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

var yamlTypeNames = strings.NewReplacer(
	"not found in type firewall.rawInventory", "is not a top-level section (use defaults, providers, systems)",
	"not found in type firewall.System", "is not a system field (use name, description, provider, addresses, instance_id, alias, allow)",
	"not found in type firewall.Defaults", "is not a field of defaults (use provider, allow)",
	"not found in type firewall.ProviderSettings", "is not a provider (use dry-run, nftables, aws, opnsense, webhook)",
	"not found in type firewall.DryRunSettings", "is not a field of providers.dry-run",
	"not found in type firewall.NFTablesSettings", "is not a field of providers.nftables",
	"not found in type firewall.AWSSettings", "is not a field of providers.aws",
	"not found in type firewall.OPNsenseSettings", "is not a field of providers.opnsense",
	"not found in type firewall.WebhookSettings", "is not a field of providers.webhook",
	"firewall.rawInventory", "the inventory",
	"firewall.System", "a system",
	"yaml: unmarshal errors:\n  ", "",
	"\n  ", "; ",
)

func yamlErrorText(err error) string { return yamlTypeNames.Replace(err.Error()) }
