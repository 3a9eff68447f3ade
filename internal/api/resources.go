package api

import (
	"net/http"

	"github.com/lambdad/lambdad/internal/async"
	"github.com/lambdad/lambdad/internal/control"
)

func (s *Server) tagResource(w http.ResponseWriter, r *http.Request) error {
	var in control.TagResourceInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "TagResource"); err != nil {
		return err
	}
	if err := s.ctl.TagResource(r.Context(), r.PathValue("Resource"), &in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) untagResource(w http.ResponseWriter, r *http.Request) error {
	keys, ok := r.URL.Query()["tagKeys"]
	if !ok {
		keys = nil
	} else if keys == nil {
		keys = []string{}
	}
	if err := s.ctl.UntagResource(r.Context(), r.PathValue("Resource"), keys); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.ListTags(r.Context(), r.PathValue("Resource"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) addPermission(w http.ResponseWriter, r *http.Request) error {
	var in control.AddPermissionInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "AddPermission"); err != nil {
		return err
	}
	out, err := s.ctl.AddPermission(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) removePermission(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := s.ctl.RemovePermission(r.Context(), r.PathValue("FunctionName"), r.PathValue("StatementId"), q.Get("Qualifier"), q.Get("RevisionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetPolicy(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) addLayerVersionPermission(w http.ResponseWriter, r *http.Request) error {
	var in control.AddLayerVersionPermissionInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "AddLayerVersionPermission"); err != nil {
		return err
	}
	out, err := s.ctl.AddLayerVersionPermission(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber"), r.URL.Query().Get("RevisionId"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) removeLayerVersionPermission(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.RemoveLayerVersionPermission(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber"), r.PathValue("StatementId"), r.URL.Query().Get("RevisionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getLayerVersionPolicy(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetLayerVersionPolicy(r.Context(), r.PathValue("LayerName"), r.PathValue("VersionNumber"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) putEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	var in async.EventInvokeConfig
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "PutFunctionEventInvokeConfig"); err != nil {
		return err
	}
	in.FunctionArn, in.LastModified = "", 0
	out, err := s.ctl.PutFunctionEventInvokeConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	var in async.EventInvokeConfig
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "UpdateFunctionEventInvokeConfig"); err != nil {
		return err
	}
	in.FunctionArn, in.LastModified = "", 0
	out, err := s.ctl.UpdateFunctionEventInvokeConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunctionEventInvokeConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteFunctionEventInvokeConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listEventInvokeConfigs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.ctl.ListFunctionEventInvokeConfigs(r.Context(), r.PathValue("FunctionName"), q.Get("Marker"), q.Get("MaxItems"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getCodeSigningConfig(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunctionCodeSigningConfig(r.Context(), r.PathValue("FunctionName"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRuntimeManagementConfig(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetRuntimeManagementConfig(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRecursionConfig(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunctionRecursionConfig(r.Context(), r.PathValue("FunctionName"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
