project "tabs" {
	title = "Tabs"
}

model "café" {
	field "x" {
		type = "string"
		description = "été ☃" 	  
		enum = ["☃", "é", "☃"] # [31m red �
	}
}
