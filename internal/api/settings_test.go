package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestE2EReservedConcurrency(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "rc")
	newActive(t, s, "rc2")
	put := func(name string, n int32) (*awslambda.PutFunctionConcurrencyOutput, error) {
		return s.client.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(n)})
	}
	_, err := put("doesnotexist", 1)
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist:$LATEST")
	_, err = put(arnPrefix+"rc:1", 1)
	apiErr(t, err, "InvalidParameterValueException", "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
	const minMsg = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
	_, err = put("rc", 901)
	apiErr(t, err, "InvalidParameterValueException", minMsg)
	_, err = put("rc", 1001)
	apiErr(t, err, "InvalidParameterValueException", minMsg)

	if out, err := put("rc", 0); err != nil || aws.ToInt32(out.ReservedConcurrentExecutions) != 0 {
		t.Fatalf("Put(0) = %+v, %v", out, err)
	}
	if out, err := put("rc", 800); err != nil || aws.ToInt32(out.ReservedConcurrentExecutions) != 800 {
		t.Fatalf("Put(800) = %+v, %v", out, err)
	}
	_, err = put("rc2", 101)
	apiErr(t, err, "InvalidParameterValueException", minMsg)
	if _, err := put("rc2", 100); err != nil {
		t.Fatal(err)
	}
	as, err := s.client.GetAccountSettings(ctx, &awslambda.GetAccountSettingsInput{})
	if err != nil || aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions) != 100 {
		t.Fatalf("UnreservedConcurrentExecutions = %d, %v", aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions), err)
	}
	got, err := s.client.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("rc")})
	if err != nil || aws.ToInt32(got.ReservedConcurrentExecutions) != 800 {
		t.Fatalf("GetFunctionConcurrency = %+v, %v", got, err)
	}
	gf, _ := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("rc")})
	if gf.Concurrency == nil || aws.ToInt32(gf.Concurrency.ReservedConcurrentExecutions) != 800 {
		t.Fatalf("GetFunction.Concurrency = %+v", gf.Concurrency)
	}
	tgt, err := s.ctl.ResolveInvokeTarget(ctx, "rc", "")
	if err != nil || tgt.ReservedConcurrency == nil || *tgt.ReservedConcurrency != 800 {
		t.Fatalf("InvokeTarget.ReservedConcurrency = %v, %v", tgt.ReservedConcurrency, err)
	}
	if _, err := s.client.DeleteFunctionConcurrency(ctx, &awslambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("rc")}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.client.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("rc")})
	if got.ReservedConcurrentExecutions != nil {
		t.Fatalf("after delete = %d", aws.ToInt32(got.ReservedConcurrentExecutions))
	}
	_, err = s.client.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"nope:$LATEST")
}

func TestE2EProvisionedConcurrency(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "pc")
	publish(t, s, "pc")
	if _, err := s.client.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("pc"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	put := func(fn, q string, n int32) (*awslambda.PutProvisionedConcurrencyConfigOutput, error) {
		return s.client.PutProvisionedConcurrencyConfig(ctx, &awslambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(n)})
	}
	get := func(fn, q string) (*awslambda.GetProvisionedConcurrencyConfigOutput, error) {
		return s.client.GetProvisionedConcurrencyConfig(ctx, &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(q)})
	}
	_, err := put("pc", "$LATEST", 1)
	apiErr(t, err, "InvalidParameterValueException", "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	_, err = get("pc", "$LATEST")
	apiErr(t, err, "InvalidParameterValueException", "The function resource provided must be an alias or a published version.")
	_, err = put("pc", "1", 0)
	apiErr(t, err, "ValidationException", "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = put("pc", "10", 1)
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"pc:10")
	_, err = put("pc", "noalias", 1)
	apiErr(t, err, "ResourceNotFoundException", "Cannot find alias arn: "+arnPrefix+"pc:noalias")
	_, err = put("doesnotexist", "1", 1)
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist:1")
	_, err = put("pc", "1", 901)
	apiErr(t, err, "InvalidParameterValueException", "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
	_, err = get("pc", "1")
	apiErr(t, err, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")

	out, err := put("pc", "1", 2)
	if err != nil || out.Status != types.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(out.RequestedProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("Put = %+v, %v", out, err)
	}
	// Provisioned concurrency comes out of the unreserved pool; replacing
	// a setting does not count the old value.
	as, err := s.client.GetAccountSettings(ctx, &awslambda.GetAccountSettingsInput{})
	if err != nil || aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions) != 998 {
		t.Fatalf("UnreservedConcurrentExecutions = %d, %v", aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions), err)
	}
	if _, err := put("pc", "1", 900); err != nil {
		t.Fatalf("Put(900) replacing 2: %v", err)
	}
	if _, err := put("pc", "1", 2); err != nil {
		t.Fatal(err)
	}
	_, err = put("pc", "live", 1)
	apiErr(t, err, "ResourceConflictException", "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
	tgt, err := s.ctl.ResolveInvokeTarget(ctx, "pc", "1")
	if err != nil || tgt.Provisioned == nil || tgt.Provisioned.RequestedProvisionedConcurrentExecutions != 2 {
		t.Fatalf("InvokeTarget.Provisioned = %+v, %v", tgt.Provisioned, err)
	}
	all, err := s.ctl.ProvisionedConfigs(ctx)
	if err != nil || len(all) != 1 || all[0].Function != "pc" || all[0].Qualifier != "1" {
		t.Fatalf("ProvisionedConfigs = %+v, %v", all, err)
	}
	// The invoker reports its pre-warming.
	if err := s.ctl.MarkProvisioned(ctx, "pc", "1", 2, nil); err != nil {
		t.Fatal(err)
	}
	g, err := get("pc", "1")
	if err != nil || g.Status != types.ProvisionedConcurrencyStatusEnumReady || aws.ToInt32(g.AvailableProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("Get after MarkProvisioned = %+v, %v", g, err)
	}
	if err := s.ctl.MarkProvisioned(ctx, "pc", "1", 0, errors.New("init failed")); err != nil {
		t.Fatal(err)
	}
	if g, _ = get("pc", "1"); g.Status != types.ProvisionedConcurrencyStatusEnumFailed || aws.ToString(g.StatusReason) != "init failed" {
		t.Fatalf("Get after failure = %+v", g)
	}
	l, err := s.client.ListProvisionedConcurrencyConfigs(ctx, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("pc")})
	if err != nil || len(l.ProvisionedConcurrencyConfigs) != 1 || aws.ToString(l.ProvisionedConcurrencyConfigs[0].FunctionArn) != arnPrefix+"pc:1" {
		t.Fatalf("List = %+v, %v", l, err)
	}
	_, err = s.client.ListProvisionedConcurrencyConfigs(ctx, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("doesnotexist")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist")
	for i := 0; i < 2; i++ {
		if _, err := s.client.DeleteProvisionedConcurrencyConfig(ctx, &awslambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("pc"), Qualifier: aws.String("1")}); err != nil {
			t.Fatalf("Delete #%d: %v", i, err)
		}
	}
	if _, err := put("pc", "live", 1); err != nil {
		t.Fatal(err)
	}
	_, err = put("pc", "1", 1)
	apiErr(t, err, "ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias")
	if _, err := s.client.DeleteAlias(ctx, &awslambda.DeleteAliasInput{FunctionName: aws.String("pc"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	_, err = get("pc", "live")
	apiErr(t, err, "ResourceNotFoundException", "Cannot find alias arn: "+arnPrefix+"pc:live")
	if l, _ = s.client.ListProvisionedConcurrencyConfigs(ctx, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("pc")}); len(l.ProvisionedConcurrencyConfigs) != 0 {
		t.Fatalf("List after alias deletion = %+v", l.ProvisionedConcurrencyConfigs)
	}
}

func TestE2ETags(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	in := createInput("tagged", "python3.12", handlerZip(t))
	in.Tags = map[string]string{"a": "1"}
	if _, err := s.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	arn := arnPrefix + "tagged"
	list := func() map[string]string {
		t.Helper()
		out, err := s.client.ListTags(ctx, &awslambda.ListTagsInput{Resource: aws.String(arn)})
		if err != nil {
			t.Fatalf("ListTags: %v", err)
		}
		return out.Tags
	}
	if got := fmt.Sprint(list()); got != "map[a:1]" {
		t.Fatalf("tags at create = %s", got)
	}
	if _, err := s.client.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"a": "2", "b": "3"}}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(list()); got != "map[a:2 b:3]" {
		t.Fatalf("tags after TagResource = %s", got)
	}
	if _, err := s.client.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"a", "nonexisting"}}); err != nil {
		t.Fatal(err)
	}
	gf, _ := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("tagged")})
	if fmt.Sprint(gf.Tags) != "map[b:3]" {
		t.Fatalf("GetFunction.Tags = %v", gf.Tags)
	}
	if _, err := s.client.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got == nil || len(got) != 0 {
		t.Fatalf("ListTags after untag all = %v", got)
	}

	many := map[string]string{}
	for i := 0; i < 51; i++ {
		many[fmt.Sprintf("%d_key", i)] = "v"
	}
	_, err := s.client.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: many})
	apiErr(t, err, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.")
	_, err = s.client.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{}})
	apiErr(t, err, "InvalidParameterValueException", "An error occurred and the request cannot be processed.")
	for _, q := range []string{":1", ":$LATEST", ":alias"} {
		_, err = s.client.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn + q), Tags: map[string]string{"x": "y"}})
		apiErr(t, err, "InvalidParameterValueException", "Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	_, err = s.client.ListTags(ctx, &awslambda.ListTagsInput{Resource: aws.String(arnPrefix + "doesnotexist")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist")
	_, err = s.client.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: aws.String(arnPrefix + "doesnotexist"), TagKeys: []string{"a"}})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist")
	_, err = s.client.ListTags(ctx, &awslambda.ListTagsInput{Resource: aws.String("arn:aws:something")})
	apiErr(t, err, "ValidationException", "")
}

func TestE2EPermissions(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "perm")
	publish(t, s, "perm")
	add := func(fn, q, sid, principal, sourceArn, rev string) (*awslambda.AddPermissionOutput, error) {
		return s.client.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String(fn), Qualifier: optional(q), StatementId: aws.String(sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(principal), SourceArn: optional(sourceArn), RevisionId: optional(rev)})
	}
	_, err := s.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("perm")})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
	a1, err := add("perm", "", "s3", "s3.amazonaws.com", "arn:aws:s3:::bucket", "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arnPrefix + `perm","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}}`
	if aws.ToString(a1.Statement) != want {
		t.Fatalf("Statement = %s\nwant %s", aws.ToString(a1.Statement), want)
	}
	if _, err := add("perm", "", "acct", "111111111111", "", ""); err != nil {
		t.Fatal(err)
	}
	p, err := s.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("perm")})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version, Id string
		Statement   []struct {
			Sid       string
			Principal json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(p.Policy)), &doc); err != nil || doc.Version != "2012-10-17" || doc.Id != "default" || len(doc.Statement) != 2 ||
		string(doc.Statement[1].Principal) != `{"AWS":"arn:aws:iam::111111111111:root"}` {
		t.Fatalf("GetPolicy = %s (%v)", aws.ToString(p.Policy), err)
	}
	_, err = add("perm", "", "s3", "s3.amazonaws.com", "", "")
	apiErr(t, err, "ResourceConflictException", "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.")
	_, err = add("perm", "", "x", "s3.amazonaws.com", "", "wrong")
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	// The policy's RevisionId is the function's, and changes with it.
	gf, _ := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("perm")})
	if aws.ToString(gf.Configuration.RevisionId) != aws.ToString(p.RevisionId) {
		t.Fatalf("policy RevisionId %s != function RevisionId %s", aws.ToString(p.RevisionId), aws.ToString(gf.Configuration.RevisionId))
	}
	if _, err := add("perm", "", "withrev", "s3.amazonaws.com", "", aws.ToString(p.RevisionId)); err != nil {
		t.Fatalf("AddPermission(current RevisionId): %v", err)
	}
	gf2, _ := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("perm")})
	if aws.ToString(gf2.Configuration.RevisionId) == aws.ToString(gf.Configuration.RevisionId) {
		t.Fatalf("AddPermission did not change the function's RevisionId")
	}
	if _, err := s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("perm"), StatementId: aws.String("withrev"), RevisionId: gf2.Configuration.RevisionId}); err != nil {
		t.Fatalf("RemovePermission(current RevisionId): %v", err)
	}
	_, err = add("perm", "$LATEST", "x", "s3.amazonaws.com", "", "")
	apiErr(t, err, "InvalidParameterValueException", "We currently do not support adding policies for $LATEST.")
	_, err = add("perm", "", "x", "not a principal!", "", "")
	apiErr(t, err, "ValidationException", "")
	_, err = add("perm", "", "x", "invalid", "", "")
	apiErr(t, err, "InvalidParameterValueException", "The provided principal was invalid. Please check the principal and try again.")
	_, err = add("perm", "", "example.com", "s3.amazonaws.com", "", "")
	apiErr(t, err, "ValidationException", "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
	_, err = add("doesnotexist", "", "x", "s3.amazonaws.com", "", "")
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"doesnotexist")
	_, err = add("perm", "alias-doesnotexist", "x", "s3.amazonaws.com", "", "")
	apiErr(t, err, "ResourceNotFoundException", "Cannot find alias arn: "+arnPrefix+"perm:alias-doesnotexist")
	_, err = add("perm", "42", "x", "s3.amazonaws.com", "", "")
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"perm:42")

	// Per qualifier: version 1 has its own policy.
	if _, err := add("perm", "1", "v1", "s3.amazonaws.com", "", ""); err != nil {
		t.Fatal(err)
	}
	pv, err := s.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("perm"), Qualifier: aws.String("1")})
	if err != nil || json.Unmarshal([]byte(aws.ToString(pv.Policy)), &doc) != nil || len(doc.Statement) != 1 || doc.Statement[0].Sid != "v1" {
		t.Fatalf("GetPolicy(:1) = %+v, %v", pv, err)
	}

	_, err = s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("perm"), StatementId: aws.String("non-existent")})
	apiErr(t, err, "ResourceNotFoundException", "Statement non-existent is not found in resource policy.")
	_, err = s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("doesnotexist"), StatementId: aws.String("s3")})
	apiErr(t, err, "ResourceNotFoundException", "No policy found for: "+arnPrefix+"doesnotexist")
	_, err = s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("perm"), StatementId: aws.String("s3"), RevisionId: aws.String("wrong")})
	apiErr(t, err, "PreconditionFailedException", "")
	for _, sid := range []string{"s3", "acct"} {
		if _, err := s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("perm"), StatementId: aws.String(sid)}); err != nil {
			t.Fatalf("RemovePermission(%s): %v", sid, err)
		}
	}
	_, err = s.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("perm")})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
	_, err = s.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("perm"), StatementId: aws.String("s3")})
	apiErr(t, err, "ResourceNotFoundException", "No policy is associated with the given resource.")

	// DeleteFunction removes every policy with the function.
	if _, err := add("perm", "", "again", "s3.amazonaws.com", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("perm")}); err != nil {
		t.Fatal(err)
	}
	newActive(t, s, "perm")
	_, err = s.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("perm")})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
}

func TestE2EEventInvokeConfig(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "eic")
	newActive(t, s, "dest")
	publish(t, s, "eic")
	put := func(fn, q string, retries, age *int32, dc *types.DestinationConfig) (*awslambda.PutFunctionEventInvokeConfigOutput, error) {
		return s.client.PutFunctionEventInvokeConfig(ctx, &awslambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(fn), Qualifier: optional(q),
			MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: age, DestinationConfig: dc})
	}
	_, err := put("doesnotexist", "", aws.Int32(1), nil, nil)
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")
	_, err = put("eic", "", nil, nil, nil)
	apiErr(t, err, "InvalidParameterValueException", "You must specify at least one of error handling or destination setting.")
	_, err = put("eic", "", aws.Int32(3), aws.Int32(59), nil)
	apiErr(t, err, "ValidationException", "2 validation errors detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2; Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60")
	_, err = put("eic", "", nil, nil, &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(arnPrefix + "eic")}})
	apiErr(t, err, "InvalidParameterValueException", "You can't specify the function as a destination for itself.")
	_, err = put("eic", "", nil, nil, &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(arnPrefix + "doesnotexist")}})
	apiErr(t, err, "InvalidParameterValueException", "The destination ARN "+arnPrefix+"doesnotexist is invalid.")
	_, err = put("eic", "noalias", aws.Int32(1), nil, nil)
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")
	_, err = s.client.GetFunctionEventInvokeConfig(ctx, &awslambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("eic")})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arnPrefix+"eic:$LATEST doesn't have an EventInvokeConfig")

	out, err := put("eic", "", aws.Int32(1), nil, &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(arnPrefix + "dest")}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionArn) != arnPrefix+"eic:$LATEST" || aws.ToInt32(out.MaximumRetryAttempts) != 1 || out.MaximumEventAgeInSeconds != nil ||
		aws.ToString(out.DestinationConfig.OnFailure.Destination) != arnPrefix+"dest" || out.LastModified == nil {
		t.Fatalf("Put = %+v", out)
	}
	up, err := s.client.UpdateFunctionEventInvokeConfig(ctx, &awslambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("eic"), MaximumEventAgeInSeconds: aws.Int32(60)})
	if err != nil || aws.ToInt32(up.MaximumRetryAttempts) != 1 || aws.ToInt32(up.MaximumEventAgeInSeconds) != 60 || aws.ToString(up.DestinationConfig.OnFailure.Destination) != arnPrefix+"dest" {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	_, err = s.client.UpdateFunctionEventInvokeConfig(ctx, &awslambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("eic"), Qualifier: aws.String("1"), MaximumRetryAttempts: aws.Int32(0)})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arnPrefix+"eic:1 doesn't have an EventInvokeConfig")
	if _, err := put(arnPrefix+"eic:1", "", nil, aws.Int32(120), nil); err != nil {
		t.Fatal(err)
	}
	_, err = put("eic:1", "2", aws.Int32(1), nil, nil)
	apiErr(t, err, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.")

	// The async workers' reads.
	c, err := s.ctl.EventInvokeConfig(ctx, "eic", "")
	if err != nil || c == nil || c.Retries() != 1 || c.OnFailure() != arnPrefix+"dest" {
		t.Fatalf("EventInvokeConfig = %+v, %v", c, err)
	}
	if c, err := s.ctl.EventInvokeConfig(ctx, "dest", ""); c != nil || err != nil {
		t.Fatalf("EventInvokeConfig(unset) = %+v, %v", c, err)
	}
	if d, err := s.ctl.DeadLetterTarget(ctx, "eic"); d != "" || err != nil {
		t.Fatalf("DeadLetterTarget = %q, %v", d, err)
	}

	l, err := s.client.ListFunctionEventInvokeConfigs(ctx, &awslambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("eic")})
	if err != nil || len(l.FunctionEventInvokeConfigs) != 2 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	_, err = s.client.ListFunctionEventInvokeConfigs(ctx, &awslambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("doesnotexist")})
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")
	if _, err := s.client.DeleteFunctionEventInvokeConfig(ctx, &awslambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("eic")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.DeleteFunctionEventInvokeConfig(ctx, &awslambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("eic")})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arnPrefix+"eic:$LATEST doesn't have an EventInvokeConfig")
	// Deleting a version removes its configuration.
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("eic"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if l, _ = s.client.ListFunctionEventInvokeConfigs(ctx, &awslambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("eic")}); len(l.FunctionEventInvokeConfigs) != 0 {
		t.Fatalf("List after version delete = %+v", l.FunctionEventInvokeConfigs)
	}
}

func TestE2ETerraformReads(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "tf")
	cs, err := s.client.GetFunctionCodeSigningConfig(ctx, &awslambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String("tf")})
	if err != nil || aws.ToString(cs.FunctionName) != "tf" || aws.ToString(cs.CodeSigningConfigArn) != "" {
		t.Fatalf("GetFunctionCodeSigningConfig = %+v, %v", cs, err)
	}
	rm, err := s.client.GetRuntimeManagementConfig(ctx, &awslambda.GetRuntimeManagementConfigInput{FunctionName: aws.String("tf")})
	if err != nil || rm.UpdateRuntimeOn != types.UpdateRuntimeOnAuto {
		t.Fatalf("GetRuntimeManagementConfig = %+v, %v", rm, err)
	}
	rc, err := s.client.GetFunctionRecursionConfig(ctx, &awslambda.GetFunctionRecursionConfigInput{FunctionName: aws.String("tf")})
	if err != nil || rc.RecursiveLoop != types.RecursiveLoopTerminate {
		t.Fatalf("GetFunctionRecursionConfig = %+v, %v", rc, err)
	}
	_, err = s.client.GetFunctionCodeSigningConfig(ctx, &awslambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"nope")
}

// TestE2EPermissionWhilePending checks that a policy change during
// provisioning (it changes the function's RevisionId) does not leave the
// function Pending.
func TestE2EPermissionWhilePending(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	in := createInput("slow", gatedRuntime, handlerZip(t))
	if _, err := s.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("slow"), StatementId: aws.String("s"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	s.gate.open()
	waitActive(t, s, "slow")
}

// TestE2EReservedConcurrencyRace checks the minimum-unreserved rule holds
// under concurrent PutFunctionConcurrency calls.
func TestE2EReservedConcurrencyRace(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	names := []string{"r1", "r2", "r3", "r4"}
	for _, n := range names {
		if _, err := s.client.CreateFunction(ctx, createInput(n, "python3.12", handlerZip(t))); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() {
			_, err := s.client.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String(n), ReservedConcurrentExecutions: aws.Int32(300)})
			errs <- err
		}()
	}
	ok := 0
	for range names {
		if err := <-errs; err == nil {
			ok++
		} else {
			apiErr(t, err, "InvalidParameterValueException", "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
		}
	}
	as, err := s.client.GetAccountSettings(ctx, &awslambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if ok != 3 || aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions) != 100 {
		t.Fatalf("%d puts succeeded, unreserved %d; want 3 and 100", ok, aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions))
	}
}
