package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/lambda"
)

// twoVersions creates function name with versions 1 and 2 (descriptions v1, v2).
func twoVersions(t *testing.T, s *server, name string) {
	t.Helper()
	newActive(t, s, name)
	setDescription(t, s, name, "v1")
	publish(t, s, name)
	setDescription(t, s, name, "v2")
	publish(t, s, name)
}

func weights(m map[string]float64) *types.AliasRoutingConfiguration {
	return &types.AliasRoutingConfiguration{AdditionalVersionWeights: m}
}

func TestE2EAliases(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	twoVersions(t, s, "al")

	create := func(name, version string, rc *types.AliasRoutingConfiguration) (*awslambda.CreateAliasOutput, error) {
		return s.client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String(name), FunctionVersion: aws.String(version), RoutingConfig: rc})
	}
	// Every routing rule, with AWS's types and messages.
	cases := []struct {
		name, version string
		rc            *types.AliasRoutingConfiguration
		code, msg     string
	}{
		{"toomany", "1", weights(map[string]float64{"2": 0.5, "3": 0.1}), "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1"},
		{"toohigh", "1", weights(map[string]float64{"2": 2}), "ValidationException", "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"subzero", "1", weights(map[string]float64{"2": -1}), "ValidationException", "1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"same", "1", weights(map[string]float64{"1": 0.5}), "InvalidParameterValueException", "Invalid function version 1. Function version 1 is already included in routing configuration."},
		{"nover", "10", nil, "ResourceNotFoundException", "Function not found: " + arnPrefix + "al:10"},
		{"noextra", "1", weights(map[string]float64{"10": 0.5}), "ResourceNotFoundException", "Function not found: " + arnPrefix + "al:10"},
		{"latestprimary", "$LATEST", weights(map[string]float64{"2": 0.5}), "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version"},
		{"latestextra", "1", weights(map[string]float64{"$LATEST": 0.5}), "ValidationException", "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"},
		{"2024", "1", nil, "ValidationException", "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"},
	}
	for _, c := range cases {
		_, err := create(c.name, c.version, c.rc)
		apiErr(t, err, c.code, c.msg)
	}
	_, err := s.client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("al-unknown"), Name: aws.String("x"), FunctionVersion: aws.String("1")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"al-unknown:1")

	latest, err := create("custom-latest", "$LATEST", nil)
	if err != nil || aws.ToString(latest.AliasArn) != arnPrefix+"al:custom-latest" || latest.RoutingConfig != nil {
		t.Fatalf("CreateAlias($LATEST) = %+v, %v", latest, err)
	}
	empty, err := create("empty", "1", &types.AliasRoutingConfiguration{})
	if err != nil || empty.RoutingConfig != nil || aws.ToString(empty.Description) != "" {
		t.Fatalf("CreateAlias(empty routing) = %+v, %v", empty, err)
	}
	live, err := create("live", "1", weights(map[string]float64{"2": 0.25}))
	if err != nil {
		t.Fatalf("CreateAlias(live): %v", err)
	}
	if live.RoutingConfig == nil || live.RoutingConfig.AdditionalVersionWeights["2"] != 0.25 || aws.ToString(live.RevisionId) == "" {
		t.Fatalf("CreateAlias(live) = %+v", live)
	}
	_, err = create("live", "1", nil)
	apiErr(t, err, "ResourceConflictException", "Alias already exists: "+arnPrefix+"al:live")

	got, err := s.client.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")})
	if err != nil || aws.ToString(got.RevisionId) != aws.ToString(live.RevisionId) || got.RoutingConfig.AdditionalVersionWeights["2"] != 0.25 {
		t.Fatalf("GetAlias = %+v, %v", got, err)
	}
	_, err = s.client.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("al"), Name: aws.String("non-existent")})
	apiErr(t, err, "ResourceNotFoundException", "Cannot find alias arn: "+arnPrefix+"al:non-existent")

	// GetFunction by alias: the alias' version with the alias ARN.
	for _, q := range []struct{ name, qual string }{{"al", "live"}, {arnPrefix + "al:live", ""}} {
		gf, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(q.name), Qualifier: optional(q.qual)})
		if err != nil {
			t.Fatalf("GetFunction(%s %s): %v", q.name, q.qual, err)
		}
		if c := gf.Configuration; aws.ToString(c.FunctionArn) != arnPrefix+"al:live" || aws.ToString(c.Version) != "1" || aws.ToString(c.Description) != "v1" {
			t.Fatalf("GetFunction(alias) = %s %s %q", aws.ToString(c.FunctionArn), aws.ToString(c.Version), aws.ToString(c.Description))
		}
	}
	_, err = s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("aliasdoesnotexist")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"al:aliasdoesnotexist")

	// The invoke target carries both versions and the weight.
	tgt, err := s.ctl.ResolveInvokeTarget(ctx, "al", "live")
	if err != nil {
		t.Fatalf("ResolveInvokeTarget: %v", err)
	}
	if tgt.InvokedARN != arnPrefix+"al:live" || tgt.Primary.Config.Version != "1" || tgt.Additional == nil ||
		tgt.Additional.Config.Version != "2" || tgt.AdditionalWeight != 0.25 {
		t.Fatalf("InvokeTarget = %+v", tgt)
	}
	if tgt.Pick(0.1).Config.Version != "2" || tgt.Pick(0.9).Config.Version != "1" {
		t.Fatalf("Pick does not honour the weight")
	}

	// UpdateAlias: RevisionId precondition, removing routing with {}.
	_, err = s.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), RevisionId: aws.String("wrong")})
	apiErr(t, err, "PreconditionFailedException", "")
	up, err := s.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), RevisionId: live.RevisionId,
		Description: aws.String("d"), RoutingConfig: &types.AliasRoutingConfiguration{}})
	if err != nil || up.RoutingConfig != nil || aws.ToString(up.Description) != "d" || aws.ToString(up.RevisionId) == aws.ToString(live.RevisionId) {
		t.Fatalf("UpdateAlias = %+v, %v", up, err)
	}
	_, err = s.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST"),
		RoutingConfig: weights(map[string]float64{"2": 0.5})})
	apiErr(t, err, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version")
	_, err = s.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("non-existent")})
	apiErr(t, err, "ResourceNotFoundException", "Alias not found: "+arnPrefix+"al:non-existent")
	if _, err := s.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}

	// ListAliases with the version filter and pagination.
	la, err := s.client.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("al")})
	if err != nil || aliasNames(la.Aliases) != "custom-latest,empty,live" {
		t.Fatalf("ListAliases = %v, %v", aliasNames(la.Aliases), err)
	}
	la, _ = s.client.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("al"), FunctionVersion: aws.String("1")})
	if aliasNames(la.Aliases) != "empty" {
		t.Fatalf("ListAliases(1) = %s", aliasNames(la.Aliases))
	}
	var pages []string
	p := awslambda.NewListAliasesPaginator(s.client, &awslambda.ListAliasesInput{FunctionName: aws.String("al"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, aliasNames(out.Aliases))
	}
	if strings.Join(pages, "|") != "custom-latest,empty|live" {
		t.Fatalf("paged aliases = %v", pages)
	}
	_, err = s.client.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"nope")

	// A version an alias uses cannot be deleted; aliases via DeleteFunction neither.
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("2")})
	apiErr(t, err, "ResourceConflictException", "Unable to delete version because the following aliases reference it: [live]")
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("live")})
	apiErr(t, err, "InvalidParameterValueException", "Deletion of aliases is not currently supported.")

	// DeleteAlias is idempotent.
	for i := 0; i < 2; i++ {
		if _, err := s.client.DeleteAlias(ctx, &awslambda.DeleteAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")}); err != nil {
			t.Fatalf("DeleteAlias #%d: %v", i, err)
		}
	}
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("2")}); err != nil {
		t.Fatalf("DeleteFunction(:2) after alias removal: %v", err)
	}
	if _, err = s.ctl.ResolveInvokeTarget(ctx, "al", "live"); !errors.Is(err, lambda.FunctionNotFound(arnPrefix+"al:live")) {
		t.Fatalf("ResolveInvokeTarget(deleted alias) = %v", err)
	}
	for _, c := range []struct{ name, q, want string }{
		{"nope", "", arnPrefix + "nope:$LATEST"},
		{"al", "9", arnPrefix + "al:9"},
		{"nope", "live", arnPrefix + "nope:live"},
	} {
		if _, err = s.ctl.ResolveInvokeTarget(ctx, c.name, c.q); !errors.Is(err, lambda.FunctionNotFound(c.want)) {
			t.Fatalf("ResolveInvokeTarget(%s, %s) = %v, want not found %s", c.name, c.q, err, c.want)
		}
	}
	tl, err := s.ctl.ResolveInvokeTarget(ctx, arnPrefix+"al:$LATEST", "")
	if err != nil || tl.InvokedARN != arnPrefix+"al:$LATEST" || tl.Primary.Config.Version != "$LATEST" || tl.Additional != nil {
		t.Fatalf("ResolveInvokeTarget($LATEST) = %+v, %v", tl, err)
	}
	tu, err := s.ctl.ResolveInvokeTarget(ctx, "al", "")
	if err != nil || tu.InvokedARN != arnPrefix+"al" {
		t.Fatalf("ResolveInvokeTarget(unqualified) = %+v, %v", tu, err)
	}
}

func aliasNames(as []types.AliasConfiguration) string {
	var out []string
	for _, a := range as {
		out = append(out, aws.ToString(a.Name))
	}
	return strings.Join(out, ",")
}
