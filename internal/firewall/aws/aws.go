// Package aws is the firewall provider that isolates an EC2 instance by moving its network
// interfaces onto a quarantine security group.
package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/redact"
)

// originalGroupsTag is the ENI tag that records, during isolation, the security groups the
// interface had before, comma-separated. Groups that do not fit one tag value continue in
// originalGroupsTag+":2", ":3" and so on.
const originalGroupsTag = "breach:original-groups"

const awsTagValueMax = 256

// provider isolates an EC2 instance by moving every network interface onto a quarantine security
// group that has no rules (created, if named and missing, in the instance's VPC). The original
// groups of each interface are recorded in a tag on the interface and in the evidence, and
// Release restores them exactly.
//
// Security groups are stateful and the quarantine group is shared, so the allowlist is not
// applied: reach an isolated instance through the console, SSM, or a forensic snapshot.
type provider struct {
	client   *ec2.Client
	settings firewall.AWSSettings
}

// Factory builds the AWS provider from the inventory's providers.aws settings, with credentials
// from the default chain (environment, shared config, instance role).
func Factory() firewall.Factory {
	return firewall.Factory{Name: firewall.ProviderAWS, New: func(ctx context.Context, s firewall.ProviderSettings, _ firewall.Options) (firewall.Provider, error) {
		p, err := newProvider(ctx, s.AWS)
		if err != nil {
			return nil, err
		}
		return p, nil
	}}
}

// newProvider builds the provider. optFns adjust the EC2 client (tests set credentials and
// retry delays).
func newProvider(ctx context.Context, s firewall.AWSSettings, optFns ...func(*ec2.Options)) (*provider, error) {
	if s.Region == "" {
		return nil, firewall.Permanent(errors.New("aws firewall: no region; set providers.aws.region"))
	}
	if s.QuarantineGroup == "" {
		return nil, firewall.Permanent(errors.New("aws firewall: no quarantine group; set providers.aws.quarantine_group"))
	}
	if s.Endpoint != "" {
		if err := firewall.CheckURL(s.Endpoint); err != nil {
			return nil, firewall.Permanent(fmt.Errorf("aws firewall: endpoint: %w", err))
		}
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(s.Region))
	if err != nil {
		return nil, firewall.Permanent(fmt.Errorf("aws firewall: load AWS configuration: %w", redact.Error(err)))
	}
	opts := []func(*ec2.Options){func(o *ec2.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
	}}
	return &provider{client: ec2.NewFromConfig(cfg, append(opts, optFns...)...), settings: s}, nil
}

func (a *provider) Name() string { return firewall.ProviderAWS }

type awsInstance struct {
	id   string
	vpc  string
	enis []types.NetworkInterface
}

// Isolate records each interface's groups in a tag, then moves it onto the quarantine group.
// Interfaces already on the quarantine group alone are left as they are.
func (a *provider) Isolate(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	op := fmt.Sprintf("isolate %s (%s) via aws", t.System, t.InstanceID)
	ev := a.evidence("isolate", t)
	inst, err := a.instance(ctx, op, t)
	if err != nil {
		return ev, err
	}
	ev.Identifiers["vpc"] = inst.vpc
	qg, err := a.quarantineGroup(ctx, op, inst.vpc, true, &ev)
	if err != nil {
		return ev, err
	}
	ev.Identifiers["quarantine_group"] = aws.ToString(qg.GroupId)
	q := aws.ToString(qg.GroupId)
	var before, after []string
	for _, eni := range inst.enis {
		id := aws.ToString(eni.NetworkInterfaceId)
		groups := groupIDs(eni.Groups)
		before = append(before, fmt.Sprintf("%s: %s", id, strings.Join(groups, ",")))
		if slices.Equal(groups, []string{q}) {
			orig, _ := originalGroups(eni.TagSet)
			if len(orig) > 0 {
				ev.Identifiers[id+".original_groups"] = strings.Join(orig, ",")
			}
			after = append(after, fmt.Sprintf("%s: %s (already quarantined)", id, q))
			continue
		}
		tags := originalGroupsTags(groups)
		if _, oldKeys := originalGroups(eni.TagSet); len(oldKeys) > len(tags) {
			var stale []types.Tag
			for _, k := range oldKeys[len(tags):] {
				stale = append(stale, types.Tag{Key: aws.String(k)})
			}
			if _, err := a.client.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: stale}); err != nil {
				return ev, awsError(op+": remove stale tags from "+id, err)
			}
		}
		if _, err := a.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return ev, awsError(op+": tag "+id+" with its original groups", err)
		}
		if _, err := a.client.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(id), Groups: []string{q},
		}); err != nil {
			return ev, awsError(op+": move "+id+" onto "+q, err)
		}
		ev.Identifiers[id+".original_groups"] = strings.Join(groups, ",")
		ev.Changes = append(ev.Changes,
			fmt.Sprintf("tag %s %s=%s", id, originalGroupsTag, strings.Join(groups, ",")),
			fmt.Sprintf("modify-network-interface-attribute %s groups %s -> %s", id, strings.Join(groups, ","), q))
		after = append(after, fmt.Sprintf("%s: %s", id, q))
	}
	ev.Before = "security groups " + strings.Join(before, "; ")
	ev.After = "security groups " + strings.Join(after, "; ")
	return ev, nil
}

// Verify checks that every interface of the instance is on the quarantine group alone and that
// the group has no rules.
func (a *provider) Verify(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	op := fmt.Sprintf("verify %s (%s) via aws", t.System, t.InstanceID)
	ev := a.evidence("verify", t)
	inst, err := a.instance(ctx, op, t)
	if err != nil {
		return ev, err
	}
	ev.Identifiers["vpc"] = inst.vpc
	qg, err := a.quarantineGroup(ctx, op, inst.vpc, false, &ev)
	if err != nil {
		return ev, err
	}
	if qg == nil {
		ev.After = fmt.Sprintf("not in force: quarantine group %s does not exist in %s", a.settings.QuarantineGroup, inst.vpc)
		return ev, nil
	}
	q := aws.ToString(qg.GroupId)
	ev.Identifiers["quarantine_group"] = q
	var problems, state []string
	for _, eni := range inst.enis {
		id := aws.ToString(eni.NetworkInterfaceId)
		groups := groupIDs(eni.Groups)
		state = append(state, fmt.Sprintf("%s: %s", id, strings.Join(groups, ",")))
		if !slices.Equal(groups, []string{q}) {
			problems = append(problems, fmt.Sprintf("%s is on %s", id, strings.Join(groups, ",")))
		}
	}
	if n := len(qg.IpPermissions) + len(qg.IpPermissionsEgress); n > 0 {
		problems = append(problems, fmt.Sprintf("quarantine group %s has %d rules", q, n))
	}
	ev.InForce = len(problems) == 0
	ev.After = "security groups " + strings.Join(state, "; ")
	if !ev.InForce {
		ev.After += "; not in force: " + strings.Join(problems, "; ")
	}
	return ev, nil
}

// Release puts each quarantined interface back on the groups recorded in its tag and removes
// the tag.
func (a *provider) Release(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	op := fmt.Sprintf("release %s (%s) via aws", t.System, t.InstanceID)
	ev := a.evidence("release", t)
	inst, err := a.instance(ctx, op, t)
	if err != nil {
		return ev, err
	}
	ev.Identifiers["vpc"] = inst.vpc
	qg, err := a.quarantineGroup(ctx, op, inst.vpc, false, &ev)
	if err != nil {
		return ev, err
	}
	q := ""
	if qg != nil {
		q = aws.ToString(qg.GroupId)
		ev.Identifiers["quarantine_group"] = q
	}
	var before, after []string
	for _, eni := range inst.enis {
		id := aws.ToString(eni.NetworkInterfaceId)
		groups := groupIDs(eni.Groups)
		before = append(before, fmt.Sprintf("%s: %s", id, strings.Join(groups, ",")))
		orig, keys := originalGroups(eni.TagSet)
		quarantined := q != "" && slices.Equal(groups, []string{q})
		switch {
		case quarantined && len(orig) == 0:
			return ev, firewall.Permanent(fmt.Errorf("%s: %s is on the quarantine group but carries no %s tag; restore its groups by hand from the isolation evidence", op, id, originalGroupsTag))
		case quarantined:
			if _, err := a.client.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(id), Groups: orig,
			}); err != nil {
				return ev, awsError(op+": restore groups of "+id, err)
			}
			ev.Changes = append(ev.Changes, fmt.Sprintf("modify-network-interface-attribute %s groups %s -> %s", id, q, strings.Join(orig, ",")))
			groups = orig
		}
		if len(keys) > 0 {
			var del []types.Tag
			for _, k := range keys {
				del = append(del, types.Tag{Key: aws.String(k)})
			}
			if _, err := a.client.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: del}); err != nil {
				return ev, awsError(op+": remove "+originalGroupsTag+" from "+id, err)
			}
			ev.Changes = append(ev.Changes, fmt.Sprintf("untag %s %s", id, strings.Join(keys, ",")))
		}
		after = append(after, fmt.Sprintf("%s: %s", id, strings.Join(groups, ",")))
	}
	ev.Before = "security groups " + strings.Join(before, "; ")
	ev.After = "security groups " + strings.Join(after, "; ")
	return ev, nil
}

func (a *provider) evidence(action string, t firewall.Target) incident.Evidence {
	return incident.Evidence{Provider: a.Name(), Action: action, System: t.System, At: time.Now().UTC(),
		Identifiers: map[string]string{"instance_id": t.InstanceID, "region": a.settings.Region}}
}

// instance describes the instance and its network interfaces (with their tags).
func (a *provider) instance(ctx context.Context, op string, t firewall.Target) (awsInstance, error) {
	if t.InstanceID == "" {
		return awsInstance{}, firewall.Permanent(fmt.Errorf("%s: no instance_id in the inventory", op))
	}
	out, err := a.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{t.InstanceID}})
	if err != nil {
		return awsInstance{}, awsError(op+": describe instance", err)
	}
	var inst *types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == t.InstanceID {
				inst = &r.Instances[i]
			}
		}
	}
	if inst == nil {
		return awsInstance{}, firewall.Permanent(fmt.Errorf("%s: instance %s not found in %s", op, t.InstanceID, a.settings.Region))
	}
	if inst.State != nil && inst.State.Name == types.InstanceStateNameTerminated {
		return awsInstance{}, firewall.Permanent(fmt.Errorf("%s: instance %s is terminated", op, t.InstanceID))
	}
	res := awsInstance{id: t.InstanceID, vpc: aws.ToString(inst.VpcId)}
	if a.settings.VPC != "" && res.vpc != a.settings.VPC {
		return res, firewall.Permanent(fmt.Errorf("%s: instance %s is in %s, not in the configured VPC %s", op, t.InstanceID, res.vpc, a.settings.VPC))
	}
	var ids []string
	for _, n := range inst.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	if len(ids) == 0 {
		return res, firewall.Permanent(fmt.Errorf("%s: instance %s has no network interfaces", op, t.InstanceID))
	}
	slices.Sort(ids)
	nis, err := a.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids})
	if err != nil {
		return res, awsError(op+": describe network interfaces", err)
	}
	res.enis = nis.NetworkInterfaces
	slices.SortFunc(res.enis, func(x, y types.NetworkInterface) int {
		return strings.Compare(aws.ToString(x.NetworkInterfaceId), aws.ToString(y.NetworkInterfaceId))
	})
	if len(res.enis) != len(ids) {
		return res, fmt.Errorf("%s: described %d of %d network interfaces of %s", op, len(res.enis), len(ids), t.InstanceID)
	}
	return res, nil
}

// quarantineGroup finds the quarantine group in vpc; by name it may create it (with no rules).
// It returns nil, nil when the group does not exist and create is false.
func (a *provider) quarantineGroup(ctx context.Context, op, vpc string, create bool, ev *incident.Evidence) (*types.SecurityGroup, error) {
	g := a.settings.QuarantineGroup
	if strings.HasPrefix(g, "sg-") {
		out, err := a.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{g}})
		if err != nil {
			return nil, awsError(op+": describe quarantine group "+g, err)
		}
		if len(out.SecurityGroups) != 1 {
			return nil, firewall.Permanent(fmt.Errorf("%s: quarantine group %s not found", op, g))
		}
		sg := out.SecurityGroups[0]
		if aws.ToString(sg.VpcId) != vpc {
			return nil, firewall.Permanent(fmt.Errorf("%s: quarantine group %s is in %s, the instance in %s; name the group instead of its id so one is made per VPC", op, g, aws.ToString(sg.VpcId), vpc))
		}
		return &sg, nil
	}
	sg, err := a.findGroup(ctx, op, vpc)
	if err != nil || sg != nil || !create {
		return sg, err
	}
	return a.createGroup(ctx, op, vpc, ev)
}

// findGroup finds the quarantine group by name in vpc; nil, nil when there is none.
func (a *provider) findGroup(ctx context.Context, op, vpc string) (*types.SecurityGroup, error) {
	g := a.settings.QuarantineGroup
	out, err := a.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{g}},
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
	}})
	if err != nil {
		return nil, awsError(op+": find quarantine group "+g, err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

// createGroup creates the quarantine group in vpc and revokes the egress a new group allows.
func (a *provider) createGroup(ctx context.Context, op, vpc string, ev *incident.Evidence) (*types.SecurityGroup, error) {
	g := a.settings.QuarantineGroup
	cr, err := a.client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(g),
		Description: aws.String("breach quarantine: no rules, no traffic"),
		VpcId:       aws.String(vpc),
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeSecurityGroup,
			Tags:         []types.Tag{{Key: aws.String("breach:purpose"), Value: aws.String("quarantine")}},
		}},
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidGroup.Duplicate" {
			// Another isolation created it first.
			sg, err := a.findGroup(ctx, op, vpc)
			if err == nil && sg == nil {
				err = fmt.Errorf("%s: quarantine group %s reported as duplicate but not found", op, g)
			}
			return sg, err
		}
		return nil, awsError(op+": create quarantine group "+g, err)
	}
	id := aws.ToString(cr.GroupId)
	ev.Changes = append(ev.Changes, fmt.Sprintf("create-security-group %s (%s) in %s", g, id, vpc))
	out, err := a.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		return nil, awsError(op+": describe new quarantine group "+id, err)
	}
	if len(out.SecurityGroups) != 1 {
		return nil, fmt.Errorf("%s: new quarantine group %s not found", op, id)
	}
	sg := &out.SecurityGroups[0]
	// A new group allows all egress; a quarantine group allows nothing.
	if len(sg.IpPermissionsEgress) > 0 {
		if _, err := a.client.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
			GroupId: aws.String(id), IpPermissions: sg.IpPermissionsEgress,
		}); err != nil {
			return nil, awsError(op+": revoke default egress of "+id, err)
		}
		ev.Changes = append(ev.Changes, fmt.Sprintf("revoke-security-group-egress %s (%d default rules)", id, len(sg.IpPermissionsEgress)))
		sg.IpPermissionsEgress = nil
	}
	return sg, nil
}

func groupIDs(gs []types.GroupIdentifier) []string {
	var ids []string
	for _, g := range gs {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	return ids
}

// originalGroupsTags splits the comma-separated group list over as many tags as it needs.
func originalGroupsTags(groups []string) []types.Tag {
	var tags []types.Tag
	var cur []string
	flush := func() {
		key := originalGroupsTag
		if len(tags) > 0 {
			key += ":" + strconv.Itoa(len(tags)+1)
		}
		tags = append(tags, types.Tag{Key: aws.String(key), Value: aws.String(strings.Join(cur, ","))})
		cur = nil
	}
	for _, g := range groups {
		if len(cur) > 0 && len(strings.Join(append(cur, g), ",")) > awsTagValueMax {
			flush()
		}
		cur = append(cur, g)
	}
	flush()
	return tags
}

// originalGroups reads the groups recorded by originalGroupsTags, and the tag keys holding them.
func originalGroups(tags []types.Tag) (groups, keys []string) {
	parts := map[int]string{}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		switch {
		case k == originalGroupsTag:
			parts[1] = aws.ToString(t.Value)
		case strings.HasPrefix(k, originalGroupsTag+":"):
			n, err := strconv.Atoi(strings.TrimPrefix(k, originalGroupsTag+":"))
			if err != nil || n < 2 {
				continue
			}
			parts[n] = aws.ToString(t.Value)
		default:
			continue
		}
		keys = append(keys, k)
	}
	for i := 1; ; i++ {
		v, ok := parts[i]
		if !ok {
			break
		}
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	}
	slices.Sort(keys)
	return groups, keys
}

// Errors that retrying cannot fix: bad or missing credentials, missing permissions, unknown or
// malformed identifiers, rejected parameters.
var awsPermanentCodes = map[string]bool{
	"AuthFailure": true, "UnauthorizedOperation": true, "InvalidClientTokenId": true,
	"SignatureDoesNotMatch": true, "OptInRequired": true, "Blocked": true, "PendingVerification": true,
	"InvalidInstanceID.NotFound": true, "InvalidInstanceID.Malformed": true,
	"InvalidGroup.NotFound": true, "InvalidGroupId.Malformed": true,
	"InvalidNetworkInterfaceID.NotFound": true, "InvalidNetworkInterfaceID.Malformed": true,
	"InvalidVpcID.NotFound": true, "InvalidParameterValue": true, "InvalidParameterCombination": true,
	"MissingParameter": true, "UnsupportedOperation": true, "SecurityGroupLimitExceeded": true,
	"SecurityGroupsPerInterfaceLimitExceeded": true, "InvalidGroup.Reserved": true,
}

// awsError wraps an EC2 error, marking it Permanent when retrying cannot fix it. Throttling and
// 5xx errors have already been retried by the SDK and stay retryable.
func awsError(op string, err error) error {
	// The SDK's errors quote the endpoint URL, and a signed request's query.
	wrapped := fmt.Errorf("%s: %w", op, redact.Error(err))
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if awsPermanentCodes[ae.ErrorCode()] {
			return firewall.Permanent(wrapped)
		}
		return wrapped
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() == 401 || re.HTTPStatusCode() == 403) {
		return firewall.Permanent(wrapped)
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return firewall.Permanent(fmt.Errorf("%w; configure AWS credentials (environment, shared config or instance role)", wrapped))
	}
	return wrapped
}
