// Package storiface is sealfleet's shared vocabulary: sector identity, sector file types and paths, task types,
// call IDs, worker descriptions and coded errors. Every other package may import it; it imports none of them, so
// the API, the scheduler, the stores and the sealer never import each other just to share a type.
package storiface
