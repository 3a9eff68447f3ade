package api

import (
	"net/http"

	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/lambda"
)

// maxSmallRequestBytes bounds request bodies that carry no code.
const maxSmallRequestBytes = 1 << 20

func (s *Server) publishVersion(w http.ResponseWriter, r *http.Request) error {
	var in control.PublishVersionInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "PublishVersion"); err != nil {
		return err
	}
	in.FunctionName = r.PathValue("FunctionName")
	out, err := s.ctl.PublishVersion(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listVersionsByFunction(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.ctl.ListVersionsByFunction(r.Context(), r.PathValue("FunctionName"), q.Get("Marker"), q.Get("MaxItems"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createAlias(w http.ResponseWriter, r *http.Request) error {
	var in control.CreateAliasInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "CreateAlias"); err != nil {
		return err
	}
	in.FunctionName = r.PathValue("FunctionName")
	out, err := s.ctl.CreateAlias(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getAlias(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetAlias(r.Context(), r.PathValue("FunctionName"), r.PathValue("Name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateAlias(w http.ResponseWriter, r *http.Request) error {
	var in control.UpdateAliasInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "UpdateAlias"); err != nil {
		return err
	}
	in.FunctionName, in.Name = r.PathValue("FunctionName"), r.PathValue("Name")
	out, err := s.ctl.UpdateAlias(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteAlias(r.Context(), r.PathValue("FunctionName"), r.PathValue("Name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.ctl.ListAliases(r.Context(), r.PathValue("FunctionName"), q.Get("FunctionVersion"), q.Get("Marker"), q.Get("MaxItems"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) publishLayerVersion(w http.ResponseWriter, r *http.Request) error {
	var in control.PublishLayerVersionInput
	if err := decodeJSON(r, w, &in, lambda.MaxCreateRequestBytes, "PublishLayerVersion"); err != nil {
		return err
	}
	in.LayerName = r.PathValue("LayerName")
	out, err := s.ctl.PublishLayerVersion(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getLayerVersion(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetLayerVersion(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteLayerVersion(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteLayerVersion(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func layersInput(r *http.Request) control.ListLayersInput {
	q := r.URL.Query()
	return control.ListLayersInput{
		LayerName:              r.PathValue("LayerName"),
		CompatibleRuntime:      q.Get("CompatibleRuntime"),
		CompatibleArchitecture: q.Get("CompatibleArchitecture"),
		Marker:                 q.Get("Marker"),
		MaxItems:               q.Get("MaxItems"),
	}
}

func (s *Server) listLayerVersions(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.ListLayerVersions(r.Context(), layersInput(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// listLayers serves ListLayers and, with ?find=LayerVersion,
// GetLayerVersionByArn (both are GET /2018-10-31/layers).
func (s *Server) listLayers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("find") == "LayerVersion" {
		out, err := s.ctl.GetLayerVersionByArn(r.Context(), q.Get("Arn"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, out)
	}
	out, err := s.ctl.ListLayers(r.Context(), layersInput(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) downloadLayer(w http.ResponseWriter, r *http.Request) error {
	b, err := s.ctl.LayerCode(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber"), r.URL.Query().Get("CodeSha256"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

func (s *Server) putFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	var in control.Concurrency
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "PutFunctionConcurrency"); err != nil {
		return err
	}
	out, err := s.ctl.PutFunctionConcurrency(r.Context(), r.PathValue("FunctionName"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunctionConcurrency(r.Context(), r.PathValue("FunctionName"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteFunctionConcurrency(r.Context(), r.PathValue("FunctionName")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putProvisionedConcurrency(w http.ResponseWriter, r *http.Request) error {
	var in control.PutProvisionedConcurrencyInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "PutProvisionedConcurrencyConfig"); err != nil {
		return err
	}
	out, err := s.ctl.PutProvisionedConcurrencyConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, out)
}

// getProvisionedConcurrency serves GetProvisionedConcurrencyConfig and,
// with ?List=ALL, ListProvisionedConcurrencyConfigs.
func (s *Server) getProvisionedConcurrency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("List") == "ALL" {
		out, err := s.ctl.ListProvisionedConcurrencyConfigs(r.Context(), r.PathValue("FunctionName"), q.Get("Marker"), q.Get("MaxItems"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, out)
	}
	out, err := s.ctl.GetProvisionedConcurrencyConfig(r.Context(), r.PathValue("FunctionName"), q.Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteProvisionedConcurrency(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteProvisionedConcurrencyConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
