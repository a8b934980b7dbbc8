"""The engine side: facts, the one door to durable-rules, judging, partitions and executors."""
