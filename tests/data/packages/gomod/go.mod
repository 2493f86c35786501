module example.org/watch/app

go 1.21

toolchain go1.21.5

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/net v0.17.0 // indirect
	github.com/old/thing v1.0.0
	example.org/watch/shared v0.0.0-00010101000000-000000000000
)

require github.com/pkg/errors v0.9.1 // indirect; kept for the old API

replace github.com/old/thing => github.com/new/thing v1.2.0

replace example.org/watch/shared => ../shared

exclude golang.org/x/net v0.1.0
