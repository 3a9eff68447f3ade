package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lambdad/lambdad/sdk/client"
)

func TestClientAliases(t *testing.T) {
	c := start(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.CreateFunction(ctx, client.CreateFunctionInput{FunctionName: "al", Runtime: "python3.12", Handler: "handler.handler", ZipFile: zipOf(t, "def handler(e, c):\n    return 1\n"), Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitActive(ctx, "al"); err != nil {
		t.Fatal(err)
	}
	v2, err := c.UpdateFunctionCode(ctx, "al", client.UpdateFunctionCodeInput{ZipFile: zipOf(t, "def handler(e, c):\n    return 2\n"), Publish: true})
	if err != nil || v2.Version != "2" {
		t.Fatalf("UpdateFunctionCode(Publish) = %+v, %v", v2, err)
	}
	if _, err := c.WaitUpdated(ctx, "al"); err != nil {
		t.Fatal(err)
	}
	a, err := c.CreateAlias(ctx, "al", "live", client.AliasInput{FunctionVersion: "1", RoutingConfig: &client.RoutingConfig{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})
	if err != nil || a.AliasArn != "arn:aws:lambda:us-east-1:000000000000:function:al:live" || a.RoutingConfig.AdditionalVersionWeights["2"] != 0.1 {
		t.Fatalf("CreateAlias = %+v, %v", a, err)
	}
	_, err = c.CreateAlias(ctx, "al", "bad", client.AliasInput{FunctionVersion: "9"})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Type != "ResourceNotFoundException" {
		t.Fatalf("CreateAlias(missing version) = %v", err)
	}
	u, err := c.UpdateAlias(ctx, "al", "live", client.AliasInput{FunctionVersion: "2", RoutingConfig: &client.RoutingConfig{}, RevisionId: a.RevisionId})
	if err != nil || u.FunctionVersion != "2" || u.RoutingConfig != nil {
		t.Fatalf("UpdateAlias = %+v, %v", u, err)
	}
	if g, err := c.GetAlias(ctx, "al", "live"); err != nil || g.RevisionId != u.RevisionId {
		t.Fatalf("GetAlias = %+v, %v", g, err)
	}
	if l, err := c.ListAliases(ctx, "al"); err != nil || len(l) != 1 {
		t.Fatalf("ListAliases = %+v, %v", l, err)
	}
	f, err := c.GetFunctionQualified(ctx, "al", "live")
	if err != nil || f.Configuration.Version != "2" || f.Configuration.FunctionArn != a.AliasArn {
		t.Fatalf("GetFunctionQualified = %+v, %v", f.Configuration, err)
	}
	if err := c.DeleteAlias(ctx, "al", "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAlias(ctx, "al", "live"); !client.IsNotFound(err) {
		t.Fatalf("GetAlias after delete = %v", err)
	}
	if l, err := c.ListLayers(ctx, ""); err != nil || len(l) != 0 {
		t.Fatalf("ListLayers = %+v, %v", l, err)
	}
}
