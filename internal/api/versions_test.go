package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const arnPrefix = "arn:aws:lambda:us-east-1:000000000000:function:"

// newActive creates a python function and waits until it is Active.
func newActive(t *testing.T, s *server, name string) *awslambda.CreateFunctionOutput {
	t.Helper()
	out, err := s.client.CreateFunction(t.Context(), createInput(name, "python3.12", handlerZip(t)))
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	waitActive(t, s, name)
	return out
}

func setDescription(t *testing.T, s *server, name, d string) {
	t.Helper()
	if _, err := s.client.UpdateFunctionConfiguration(t.Context(), &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String(d)}); err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	waitUpdated(t, s, name)
}

func publish(t *testing.T, s *server, name string) *awslambda.PublishVersionOutput {
	t.Helper()
	out, err := s.client.PublishVersion(t.Context(), &awslambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatalf("PublishVersion(%s): %v", name, err)
	}
	return out
}

func TestE2EVersions(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	newActive(t, s, "ver")
	get, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("ver")})
	if err != nil {
		t.Fatal(err)
	}
	sha := aws.ToString(get.Configuration.CodeSha256)

	// Preconditions.
	_, err = s.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("ver"), RevisionId: aws.String("wrong")})
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	_, err = s.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("ver"), CodeSha256: aws.String("nope")})
	apiErr(t, err, "InvalidParameterValueException", "CodeSHA256 (nope) is different from current CodeSHA256 in $LATEST ("+sha+"). Please try again with the CodeSHA256 in $LATEST.")
	_, err = s.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("missing")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"missing")

	v1, err := s.client.PublishVersion(ctx, &awslambda.PublishVersionInput{
		FunctionName: aws.String("ver"), CodeSha256: aws.String(sha),
		RevisionId: get.Configuration.RevisionId, Description: aws.String("first"),
	})
	if err != nil {
		t.Fatalf("PublishVersion: %v", err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(v1.FunctionArn) != arnPrefix+"ver:1" || aws.ToString(v1.Description) != "first" ||
		v1.State != types.StateActive || v1.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Fatalf("PublishVersion = %s %s %q %s %s", aws.ToString(v1.Version), aws.ToString(v1.FunctionArn), aws.ToString(v1.Description), v1.State, v1.LastUpdateStatus)
	}
	after, _ := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("ver")})
	if aws.ToString(after.Configuration.RevisionId) == aws.ToString(get.Configuration.RevisionId) {
		t.Fatalf("$LATEST RevisionId not bumped by PublishVersion")
	}
	// Unchanged $LATEST: the existing version comes back.
	again := publish(t, s, "ver")
	if aws.ToString(again.Version) != "1" || aws.ToString(again.RevisionId) != aws.ToString(v1.RevisionId) {
		t.Fatalf("republish = version %s rev %s, want 1 %s", aws.ToString(again.Version), aws.ToString(again.RevisionId), aws.ToString(v1.RevisionId))
	}
	setDescription(t, s, "ver", "second")
	v2 := publish(t, s, "ver")
	if aws.ToString(v2.Version) != "2" || aws.ToString(v2.Description) != "second" {
		t.Fatalf("second publish = %s %q", aws.ToString(v2.Version), aws.ToString(v2.Description))
	}

	// Immutable snapshots: version 1 keeps its configuration.
	for _, q := range []struct{ name, qual string }{{"ver", "1"}, {"ver:1", ""}, {arnPrefix + "ver:1", ""}, {arnPrefix + "ver", "1"}} {
		gc, err := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String(q.name), Qualifier: optional(q.qual)})
		if err != nil {
			t.Fatalf("GetFunctionConfiguration(%s, %s): %v", q.name, q.qual, err)
		}
		if aws.ToString(gc.Description) != "first" || aws.ToString(gc.Version) != "1" || aws.ToString(gc.FunctionArn) != arnPrefix+"ver:1" {
			t.Fatalf("GetFunctionConfiguration(%s, %s) = %q %s %s", q.name, q.qual, aws.ToString(gc.Description), aws.ToString(gc.Version), aws.ToString(gc.FunctionArn))
		}
	}
	gl, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("$LATEST")})
	if err != nil || aws.ToString(gl.Configuration.FunctionArn) != arnPrefix+"ver:$LATEST" || aws.ToString(gl.Configuration.Description) != "second" {
		t.Fatalf("GetFunction($LATEST) = %+v, %v", gl, err)
	}
	_, err = s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("1221")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"ver:1221")

	// ListVersionsByFunction: $LATEST first, paginated.
	lv, err := s.client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versionsOf(lv.Versions); got != "$LATEST,1,2" {
		t.Fatalf("ListVersionsByFunction = %s", got)
	}
	if arn := aws.ToString(lv.Versions[0].FunctionArn); arn != arnPrefix+"ver:$LATEST" || lv.Versions[0].State != "" {
		t.Fatalf("ListVersions[0] = %s state %q", arn, lv.Versions[0].State)
	}
	var pages []string
	p := awslambda.NewListVersionsByFunctionPaginator(s.client, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, versionsOf(out.Versions))
	}
	if got := strings.Join(pages, "|"); got != "$LATEST,1|2" {
		t.Fatalf("paged versions = %s", got)
	}
	_, err = s.client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("missing")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"missing")

	// ListFunctions with FunctionVersion=ALL.
	lf, err := s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil {
		t.Fatal(err)
	}
	if got := versionsOf(lf.Functions); got != "$LATEST,1,2" {
		t.Fatalf("ListFunctions(ALL) = %s", got)
	}
	lf, _ = s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{})
	if got := versionsOf(lf.Functions); got != "$LATEST" {
		t.Fatalf("ListFunctions = %s", got)
	}
	newActive(t, s, "ver2")
	var fpages []string
	fp := awslambda.NewListFunctionsPaginator(s.client, &awslambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MaxItems: aws.Int32(2)})
	for fp.HasMorePages() {
		out, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fpages = append(fpages, versionsOf(out.Functions))
	}
	if got := strings.Join(fpages, "|"); got != "$LATEST,1|2,$LATEST" {
		t.Fatalf("paged ListFunctions(ALL) = %s", got)
	}

	// Delete a version; numbers are never reused.
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("2")}); err != nil {
		t.Fatalf("DeleteFunction(:2): %v", err)
	}
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("2")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: "+arnPrefix+"ver:2")
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("$LATEST")})
	apiErr(t, err, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.")
	setDescription(t, s, "ver", "third")
	if v3 := publish(t, s, "ver"); aws.ToString(v3.Version) != "3" {
		t.Fatalf("publish after delete = %s, want 3", aws.ToString(v3.Version))
	}

	// Deleting the function removes its versions.
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("ver")}); err != nil {
		t.Fatal(err)
	}
	newActive(t, s, "ver")
	if v := publish(t, s, "ver"); aws.ToString(v.Version) != "1" {
		t.Fatalf("publish on recreated function = %s, want 1", aws.ToString(v.Version))
	}
}

func TestE2EPublishOnCreateAndUpdate(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	in := createInput("pub", "python3.12", handlerZip(t))
	in.Publish = true
	created, err := s.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(created.Version) != "1" || aws.ToString(created.FunctionArn) != arnPrefix+"pub" || created.State != types.StatePending {
		t.Fatalf("CreateFunction(Publish) = %s %s %s", aws.ToString(created.Version), aws.ToString(created.FunctionArn), created.State)
	}
	waitActive(t, s, "pub")
	waitVersionState(t, s, "pub", "1", types.StateActive)

	zip2 := makeZip(t, zfile{name: "handler.py", body: "def handler(e, c):\n    return 2\n"})
	up, err := s.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("pub"), ZipFile: zip2, Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.Version) != "2" || aws.ToString(up.FunctionArn) != arnPrefix+"pub:2" || aws.ToString(up.CodeSha256) != lambdaSha(zip2) {
		t.Fatalf("UpdateFunctionCode(Publish) = %s %s %s", aws.ToString(up.Version), aws.ToString(up.FunctionArn), aws.ToString(up.CodeSha256))
	}
	waitUpdated(t, s, "pub")
	waitVersionState(t, s, "pub", "2", types.StateActive)
	v1, _ := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("pub"), Qualifier: aws.String("1")})
	if aws.ToString(v1.CodeSha256) == lambdaSha(zip2) {
		t.Fatalf("version 1 changed code with $LATEST")
	}
}

// waitVersionState polls GetFunctionConfiguration(name:q) until State is want.
func waitVersionState(t *testing.T, s *server, name, q string, want types.State) {
	t.Helper()
	ctx := waitCtx(t)
	poll(t, ctx, func() bool {
		c, err := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String(name), Qualifier: aws.String(q)})
		return err == nil && c.State == want
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func versionsOf(cs []types.FunctionConfiguration) string {
	var out []string
	for _, c := range cs {
		out = append(out, aws.ToString(c.Version))
	}
	return strings.Join(out, ",")
}

// poll calls cond on a ticker until it holds or ctx ends.
func poll(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met: %v", ctx.Err())
		case <-tick.C:
		}
	}
}
