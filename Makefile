# Shortcuts for the project's scripts; the scripts are the source of truth.
.PHONY: setup demo test regress bench-kernels bench-embed cluster-start cluster-stop

setup:
	bash scripts/setup.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
regress:
	bash scripts/regress.sh
bench-kernels:
	cargo bench -p pgvision-distance
bench-embed:
	bash bench/embed.sh
cluster-start:
	bash scripts/cluster.sh start
cluster-stop:
	bash scripts/cluster.sh stop
