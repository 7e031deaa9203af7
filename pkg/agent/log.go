package agent

import (
	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// NewLogger builds the agent's logger: zap behind logr, JSON by default or
// console for people, with -v levels mapped to zap's debug levels. It also
// becomes klog's logger, so client-go's messages come out the same way.
// Nothing logs credentials: clients are never logged, only object names.
func NewLogger(format string, verbosity int) (logr.Logger, func()) {
	cfg := zap.NewProductionConfig()
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(zapcore.Level(-verbosity))
	cfg.DisableStacktrace = true
	cfg.Sampling = nil
	z, err := cfg.Build()
	if err != nil {
		z = zap.NewNop()
	}
	log := zapr.NewLogger(z)
	klog.SetLoggerWithOptions(log, klog.ContextualLogger(true))
	return log, func() { _ = z.Sync() }
}
