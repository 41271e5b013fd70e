package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/graph"
	"github.com/tallyhq/tally/resolvers"
)

// Error codes sent in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadInput        = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeInternal        = "INTERNAL"
	CodeTimeout         = "TIMEOUT"
)

func (s *Server) graphqlHandler(res *resolvers.Resolver) http.Handler {
	cfg := graph.Config{Resolvers: res}
	cfg.Complexity = complexityRoot()
	srv := handler.New(graph.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc:              s.websocketInit,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: s.cfg.MaxUploadBytes, MaxMemory: 32 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if s.cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(s.cfg.MaxComplexity))
	srv.Use(depthLimit{max: s.cfg.MaxDepth})
	srv.AroundOperations(s.countOperations)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(res.WithLoaders(ctx))
	})
	srv.SetErrorPresenter(s.presentError)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		s.log.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", p)
		return errors.New("internal panic")
	})
	return srv
}

// websocketInit authenticates a subscription from the connection_init
// payload ({"Authorization": "Bearer ..."} or {"token": "..."}).
func (s *Server) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	secret := bearer(p.Authorization())
	if secret == "" {
		secret = p.GetString("token")
	}
	if secret == "" {
		// Browsers cannot set headers on WebSockets; the HTTP middleware may
		// already have authenticated the upgrade request.
		if auth.FromContext(ctx) != nil {
			return ctx, &p, nil
		}
		return ctx, nil, auth.ErrUnauthenticated
	}
	t, err := auth.Lookup(ctx, s.db, secret)
	if err != nil {
		return ctx, nil, auth.ErrUnauthenticated
	}
	return auth.WithToken(ctx, t), &p, nil
}

func (s *Server) countOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	op := "unknown"
	if oc.Operation != nil {
		op = string(oc.Operation.Operation)
	}
	s.metrics.gqlOps.WithLabelValues(op).Inc()
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		r := h(ctx)
		if r != nil && len(r.Errors) > 0 {
			s.metrics.gqlErrors.WithLabelValues(op).Add(float64(len(r.Errors)))
		}
		return r
	}
}

// presentError maps domain errors to codes and hides internals: an
// unexpected error is logged with the request id and the caller sees only
// INTERNAL and that id.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
		// Validation and parse errors from gqlgen itself.
		return gerr
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) && ge.Rule != "" {
		return gerr
	}
	code := ""
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		code = CodeUnauthenticated
	case errors.Is(err, auth.ErrForbidden):
		code = CodeForbidden
	case apperr.IsInvalid(err):
		code = CodeBadInput
	case apperr.IsNotFound(err):
		code = CodeNotFound
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeTimeout
		gerr.Message = "the request took longer than the server allows"
	}
	if code == "" {
		id := RequestID(ctx)
		s.log.ErrorContext(ctx, "graphql internal error", "request_id", id, "path", gerr.Path.String(), "err", err)
		gerr.Message = "internal error (request id " + id + ")"
		code = CodeInternal
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["requestId"] = id
	}
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	gerr.Extensions["code"] = code
	return gerr
}
