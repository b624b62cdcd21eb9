//go:build tools

// Pins helm's command as a dependency of this module, so `go build helm.sh/helm/v4/cmd/helm` resolves it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
