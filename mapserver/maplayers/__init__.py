"""What a map layer is (the contract of a module in ``layers/``) and what layer modules share: GeoJSON features
rounded for the browser and the store reads several layers make. Coordinates are WGS-84 degrees."""
