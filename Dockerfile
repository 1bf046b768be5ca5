# syntax=docker/dockerfile:1
# Build a static portal binary (pure-Go SQLite, no cgo) and ship it alone.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w" -o /out/portal ./cmd/portal \
 && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w" -o /out/access ./cmd/access

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /out/access /usr/local/bin/
ENV PORTAL_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve"]
